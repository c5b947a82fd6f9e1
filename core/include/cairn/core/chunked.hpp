// An append-mostly sequence whose copies share storage: the history parts
// of the model (a goal's check-ins, a metric's points).
//
//   Chunked<CheckIn> a;
//   a.push_back(c1);
//   Chunked<CheckIn> b = a;   // O(size / kChunk): shares a's chunks
//   b.push_back(c2);          // copies at most one chunk (a's last), never
//                             // touches what `a` sees
//   for (const CheckIn& c : b) ...
//
// Elements live in chunks of up to kChunk. Copying a Chunked copies one
// reference per chunk, so a copy of the whole model costs O(entities), not
// O(history), and every copy (the writer's pooled States, published States,
// the as-of cache) holds each check-in once. A chunk is written only while
// one Chunked refers to it; a shared chunk is copied first (copy-on-write
// of the last chunk only, the others are full and never written).
//
// Thread safety: like std::vector — concurrent const access is safe, and
// different Chunked objects may be used from different threads even when
// they share chunks (the reference count is atomic; the writer checks it
// with acquire ordering, so a reader that dropped its copy is done with the
// chunk before it is written).
#pragma once

#include <algorithm>
#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <utility>
#include <vector>

namespace cairn {

// `ChunkBits`: log2 of the elements per chunk. Smaller chunks make the
// first append to a shared sequence cheaper (it copies at most a chunk) at
// the cost of more references per copy.
template <typename T, size_t ChunkBits = 5>
class Chunked {
 public:
  static constexpr size_t kChunkBits = ChunkBits;
  static constexpr size_t kChunk = size_t{1} << kChunkBits;  // default 32

  class const_iterator {
   public:
    using iterator_concept = std::random_access_iterator_tag;
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    reference operator*() const { return (*seq_)[i_]; }
    pointer operator->() const { return &(*seq_)[i_]; }
    reference operator[](difference_type n) const {
      return (*seq_)[static_cast<size_t>(static_cast<difference_type>(i_) + n)];
    }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator t = *this;
      ++i_;
      return t;
    }
    const_iterator& operator--() {
      --i_;
      return *this;
    }
    const_iterator operator--(int) {
      const_iterator t = *this;
      --i_;
      return t;
    }
    const_iterator& operator+=(difference_type n) {
      i_ = static_cast<size_t>(static_cast<difference_type>(i_) + n);
      return *this;
    }
    const_iterator& operator-=(difference_type n) { return *this += -n; }
    friend const_iterator operator+(const_iterator it, difference_type n) {
      return it += n;
    }
    friend const_iterator operator+(difference_type n, const_iterator it) {
      return it += n;
    }
    friend const_iterator operator-(const_iterator it, difference_type n) {
      return it -= n;
    }
    friend difference_type operator-(const const_iterator& a,
                                     const const_iterator& b) {
      return static_cast<difference_type>(a.i_) -
             static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.i_ == b.i_;
    }
    friend std::strong_ordering operator<=>(const const_iterator& a,
                                            const const_iterator& b) {
      return a.i_ <=> b.i_;
    }

   private:
    friend class Chunked;
    const_iterator(const Chunked* seq, size_t i) : seq_(seq), i_(i) {}
    const Chunked* seq_ = nullptr;
    size_t i_ = 0;
  };
  using iterator = const_iterator;
  using value_type = T;
  using size_type = size_t;

  Chunked() = default;
  Chunked(std::initializer_list<T> items) {
    assign(items.begin(), items.end());
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const {
    return chunks_[i >> kChunkBits].get()->items[i & (kChunk - 1)];
  }
  const T& front() const { return (*this)[0]; }
  const T& back() const { return (*this)[size_ - 1]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  void push_back(T value) {
    const size_t used = size_ & (kChunk - 1);  // of the last chunk
    if (used == 0) {
      chunks_.emplace_back(new Chunk);
      // A sequence past its first chunk is a long one: fill the next at
      // once (short ones grow their only chunk as a vector does).
      if (size_ != 0) chunks_.back().get()->items.reserve(kChunk);
    } else if (!chunks_.back().unique()) {
      const std::vector<T>& items = chunks_.back().get()->items;
      chunks_.back() = Ref(new Chunk(std::vector<T>(
          items.begin(), items.begin() + static_cast<std::ptrdiff_t>(used))));
    } else if (chunks_.back().get()->items.size() != used) {
      // Ours alone now, with elements past our end from a truncate.
      std::vector<T>& items = chunks_.back().get()->items;
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(used),
                  items.end());
    }
    chunks_.back().get()->items.push_back(std::move(value));
    ++size_;
  }
  template <typename It>
  void assign(It first, It last) {
    clear();
    for (; first != last; ++first) push_back(*first);
  }
  // The index of the first element at or after `from` for which `pred`
  // holds; size() when none. Walks each chunk's items directly, a few
  // times faster than indexing element by element.
  template <typename Pred>
  size_t find_if(size_t from, Pred pred) const {
    for (size_t i = from; i < size_;) {
      const T* items = chunks_[i >> kChunkBits].get()->items.data();
      const size_t end = std::min(size_, (i | (kChunk - 1)) + 1);
      for (; i < end; ++i) {
        if (pred(items[i & (kChunk - 1)])) return i;
      }
    }
    return size_;
  }
  // Calls f on every element, in order, a chunk's items at a time.
  template <typename F>
  void for_each(F f) const {
    for (size_t i = 0; i < size_; i += kChunk) {
      const T* items = chunks_[i >> kChunkBits].get()->items.data();
      const size_t n = std::min(kChunk, size_ - i);
      for (size_t j = 0; j < n; ++j) f(items[j]);
    }
  }
  // Keeps the first n elements (n <= size()). Copies nothing: the last
  // chunk kept may hold elements past the new end (still shared with the
  // sequences that see them); the next push_back copies or trims it.
  void truncate(size_t n) {
    if (n >= size_) return;
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(
                                        (n + kChunk - 1) >> kChunkBits),
                  chunks_.end());
    size_ = n;
  }
  void clear() {
    chunks_.clear();
    size_ = 0;
  }
  // Holds `other`'s chunks instead of its own, given both hold the same
  // elements. From the last chunk back to the first already shared, so
  // sequences that share all but their newest chunks pay O(1), not
  // O(size / kChunk) as a copy would.
  void ShareChunksOf(const Chunked& other) {
    if (size_ != other.size_ || chunks_.size() != other.chunks_.size()) return;
    for (size_t c = chunks_.size(); c-- > 0;) {
      if (chunks_[c].get() == other.chunks_[c].get()) break;
      chunks_[c] = other.chunks_[c];
    }
  }

  // Equal elements, in order. Shared chunks compare without a look.
  friend bool operator==(const Chunked& a, const Chunked& b) {
    if (a.size_ != b.size_) return false;
    for (size_t c = 0; c < a.chunks_.size(); ++c) {
      const Chunk* x = a.chunks_[c].get();
      const Chunk* y = b.chunks_[c].get();
      if (x == y) continue;
      const auto n =
          static_cast<std::ptrdiff_t>(std::min(kChunk, a.size_ - c * kChunk));
      if (!std::equal(x->items.begin(), x->items.begin() + n,
                      y->items.begin())) {
        return false;
      }
    }
    return true;
  }

  // Becomes equal to `other`, given that this sequence's elements are the
  // first size() of other's (other grew from the same elements by
  // push_back only). Takes other's chunks from the one this sequence ends
  // in on: O(chunks added), no element copied.
  void ExtendTo(const Chunked& other) {
    if (size_ > other.size_) {
      *this = other;
      return;
    }
    const auto from = static_cast<std::ptrdiff_t>(size_ >> kChunkBits);
    chunks_.erase(chunks_.begin() + from, chunks_.end());
    chunks_.insert(chunks_.end(), other.chunks_.begin() + from,
                   other.chunks_.end());
    size_ = other.size_;
  }

  // How many chunks this sequence shares with `other` (tests, metrics).
  size_t SharedChunks(const Chunked& other) const {
    size_t n = 0;
    for (size_t c = 0; c < chunks_.size() && c < other.chunks_.size(); ++c) {
      if (chunks_[c].get() == other.chunks_[c].get()) ++n;
    }
    return n;
  }

 private:
  struct Chunk {
    Chunk() = default;
    explicit Chunk(const std::vector<T>& copy) : items(copy) {}
    std::atomic<uint32_t> refs{1};
    std::vector<T> items;  // at most kChunk
  };
  // An owning reference to a chunk (intrusive count: one allocation per
  // chunk besides its items, and an acquire load for unique()).
  class Ref {
   public:
    explicit Ref(Chunk* c) : c_(c) {}
    Ref(const Ref& o) : c_(o.c_) {
      c_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    Ref(Ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    Ref& operator=(Ref o) noexcept {
      std::swap(c_, o.c_);
      return *this;
    }
    ~Ref() {
      if (c_ != nullptr &&
          c_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        delete c_;
      }
    }
    Chunk* get() const { return c_; }
    bool unique() const {
      return c_->refs.load(std::memory_order_acquire) == 1;
    }

   private:
    Chunk* c_;
  };

  // All full but the last, which may hold more than this sequence's
  // elements (after a truncate).
  std::vector<Ref> chunks_;
  size_t size_ = 0;
};

}  // namespace cairn
