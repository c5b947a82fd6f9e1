// Chunked<T>: the shared history sequence of the model. Copies share
// chunks and never see each other's appends; equality is by value.
#include "cairn/core/chunked.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

constexpr size_t kC = Chunked<int>::kChunk;

Chunked<std::string> Numbers(size_t n) {
  Chunked<std::string> s;
  for (size_t i = 0; i < n; ++i) s.push_back(std::to_string(i));
  return s;
}

std::vector<std::string> Items(const Chunked<std::string>& s) {
  return {s.begin(), s.end()};
}

TEST(Chunked, AppendsAndIndexesAcrossChunkBoundaries) {
  for (size_t n : {size_t{0}, size_t{1}, kC - 1, kC, kC + 1, 3 * kC + 7}) {
    Chunked<std::string> s = Numbers(n);
    ASSERT_EQ(s.size(), n);
    EXPECT_EQ(s.empty(), n == 0);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(s[i], std::to_string(i));
    size_t i = 0;
    for (const std::string& v : s) ASSERT_EQ(v, std::to_string(i++));
    EXPECT_EQ(i, n);
    if (n > 0) {
      EXPECT_EQ(s.front(), "0");
      EXPECT_EQ(s.back(), std::to_string(n - 1));
      EXPECT_EQ(s.end() - s.begin(), static_cast<std::ptrdiff_t>(n));
    }
  }
}

TEST(Chunked, CopiesShareChunksAndDivergeIndependently) {
  Chunked<std::string> a = Numbers(2 * kC + 5);
  Chunked<std::string> b = a;
  EXPECT_EQ(b.SharedChunks(a), 3u);
  b.push_back("b");  // a's last chunk is shared: b copies it first
  EXPECT_EQ(b.SharedChunks(a), 2u);
  a.push_back("a");
  EXPECT_EQ(a.size(), 2 * kC + 6);
  EXPECT_EQ(a.back(), "a");
  EXPECT_EQ(b.back(), "b");
  EXPECT_EQ(a[2 * kC + 4], std::to_string(2 * kC + 4));
  EXPECT_NE(a, b);
  // Filling the last chunk and starting new ones leaves the other alone.
  for (size_t i = 0; i < 2 * kC; ++i) b.push_back("x");
  EXPECT_EQ(a.size(), 2 * kC + 6);
  EXPECT_EQ(a.back(), "a");
  EXPECT_EQ(b.SharedChunks(a), 2u);
  // A unique last chunk is appended in place: no copy, still shared below.
  Chunked<std::string> c = a;
  c.push_back("c1");
  c.push_back("c2");
  EXPECT_EQ(c.SharedChunks(a), 2u);
  EXPECT_EQ(Items(a).size(), 2 * kC + 6);
}

TEST(Chunked, EqualityIsByValueNotByStorage) {
  Chunked<std::string> a = Numbers(kC + 3);
  Chunked<std::string> b = Numbers(kC + 3);
  EXPECT_EQ(b.SharedChunks(a), 0u);
  EXPECT_EQ(a, b);
  b.truncate(kC + 2);
  EXPECT_NE(a, b);
  b.push_back("other");
  EXPECT_NE(a, b);
  Chunked<std::string> c = a;
  EXPECT_EQ(a, c);
}

TEST(Chunked, TruncateKeepsThePrefixAndSparesSharedChunks) {
  Chunked<std::string> a = Numbers(2 * kC + 3);
  Chunked<std::string> b = a;
  b.truncate(kC + 1);  // cuts into a shared chunk: still shared
  ASSERT_EQ(b.size(), kC + 1);
  EXPECT_EQ(b.SharedChunks(a), 2u);
  EXPECT_TRUE(b == Numbers(kC + 1));  // only its own elements compare
  EXPECT_FALSE(b == Numbers(kC + 2));
  EXPECT_EQ(b.back(), std::to_string(kC));
  EXPECT_EQ(a.size(), 2 * kC + 3);
  EXPECT_EQ(a[kC + 1], std::to_string(kC + 1));
  EXPECT_EQ(a.back(), std::to_string(2 * kC + 2));
  b.push_back("new");
  EXPECT_EQ(a[kC + 1], std::to_string(kC + 1));
  b.truncate(kC);  // on a chunk boundary
  EXPECT_EQ(b.size(), kC);
  EXPECT_EQ(b.back(), std::to_string(kC - 1));
  b.truncate(0);
  EXPECT_TRUE(b.empty());
  b.push_back("again");
  EXPECT_EQ(Items(b), std::vector<std::string>{"again"});
}

TEST(Chunked, PushAfterTruncateNeverShowsTheCutElements) {
  // Shared: the push copies the kept part of the chunk.
  Chunked<std::string> a = Numbers(kC + 10);
  Chunked<std::string> b = a;
  b.truncate(kC + 4);
  b.push_back("b");
  EXPECT_EQ(b.size(), kC + 5);
  EXPECT_EQ(b.back(), "b");
  EXPECT_EQ(a[kC + 4], std::to_string(kC + 4));  // a untouched
  EXPECT_EQ(a.size(), kC + 10);
  EXPECT_EQ(b.SharedChunks(a), 1u);
  // Alone: the push trims the chunk in place.
  Chunked<std::string> c = Numbers(kC + 10);
  c.truncate(kC + 2);
  c.push_back("c");
  std::vector<std::string> want = Items(Numbers(kC + 2));
  want.push_back("c");
  EXPECT_EQ(Items(c), want);
  // Alone after the other holder is gone.
  Chunked<std::string> d = Numbers(kC + 10);
  {
    Chunked<std::string> e = d;
    d.truncate(kC + 1);
  }
  d.push_back("d");
  EXPECT_EQ(d.size(), kC + 2);
  EXPECT_EQ(d[kC], std::to_string(kC));
  EXPECT_EQ(d.back(), "d");
}

// A sequence extended to one that grew from it by appends: equal to it,
// holding its chunks from the one the shorter ended in on, and still
// copy-on-write for both.
TEST(Chunked, ExtendToTakesTheLongerOnesNewChunks) {
  for (size_t n : {size_t{0}, size_t{1}, kC - 1, kC, kC + 1, 2 * kC + 3}) {
    for (size_t more : {size_t{0}, size_t{1}, kC, 2 * kC + 5}) {
      SCOPED_TRACE(std::to_string(n) + " + " + std::to_string(more));
      Chunked<std::string> shorter = Numbers(n);
      Chunked<std::string> longer = shorter;
      for (size_t i = n; i < n + more; ++i) longer.push_back(std::to_string(i));
      shorter.ExtendTo(longer);
      EXPECT_EQ(Items(shorter), Items(longer));
      EXPECT_EQ(shorter.SharedChunks(longer), (n + more + kC - 1) / kC);
      shorter.push_back("x");
      EXPECT_EQ(longer.size(), n + more);
      EXPECT_EQ(Items(longer), Items(Numbers(n + more)));
    }
  }
  // Given a longer sequence than the target: a plain copy of it.
  Chunked<std::string> a = Numbers(3 * kC), b = Numbers(kC);
  a.ExtendTo(b);
  EXPECT_EQ(Items(a), Items(b));
}

TEST(Chunked, IteratorsWorkWithStandardAlgorithms) {
  Chunked<int> s;
  for (int i = 0; i < 200; ++i) s.push_back(i * 2);
  auto it = std::lower_bound(s.begin(), s.end(), 101);
  ASSERT_NE(it, s.end());
  EXPECT_EQ(*it, 102);
  EXPECT_EQ(it - s.begin(), 51);
  EXPECT_EQ(*(s.end() - 1), 398);
  EXPECT_EQ(it[2], 106);
  EXPECT_TRUE(s.begin() < it);
  EXPECT_EQ(
      std::count_if(s.begin(), s.end(), [](int v) { return v % 10 == 0; }), 40);
  static_assert(std::random_access_iterator<Chunked<int>::const_iterator>);
}

TEST(Chunked, FindIfAgreesWithTheStandardOneFromEveryStart) {
  // Small chunks (8) so that the runs cross many chunk boundaries, and a
  // truncated copy whose last chunk holds elements past its end.
  Chunked<int, 3> s;
  for (int i = 0; i < 60; ++i) s.push_back(i % 7 == 3 ? -i : i);
  Chunked<int, 3> cut = s;
  cut.truncate(45);
  auto negative = [](int v) { return v < 0; };
  for (const Chunked<int, 3>* seq : {&s, &cut}) {
    for (size_t from = 0; from <= seq->size(); ++from) {
      auto want = std::find_if(seq->begin() + static_cast<std::ptrdiff_t>(from),
                               seq->end(), negative);
      ASSERT_EQ(seq->find_if(from, negative),
                static_cast<size_t>(want - seq->begin()))
          << "from " << from << " of " << seq->size();
    }
  }
  // Nothing past the end is ever found: element 45 of `s` is -45.
  EXPECT_EQ(cut.find_if(44, [](int v) { return v == -45; }), cut.size());
}

// A reader thread walks its copies while the writer keeps appending to its
// own (ThreadSanitizer: the shared chunks are never written).
TEST(Chunked, ReadersOfCopiesRaceWithAWriter) {
  Chunked<std::string> writer;
  std::vector<Chunked<std::string>> published;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i) writer.push_back(std::to_string(round));
    published.push_back(writer);
  }
  std::thread reader([copies = published] {
    for (int pass = 0; pass < 20; ++pass) {
      for (const auto& c : copies) {
        size_t n = 0;
        for (const std::string& v : c) n += v.size();
        ASSERT_GT(n, 0u);
      }
    }
  });
  for (int i = 0; i < 5000; ++i) writer.push_back("w");
  published.clear();  // the reader's copies keep their chunks alive
  reader.join();
  EXPECT_EQ(writer.size(), 50u * 7 + 5000);
}

}  // namespace
}  // namespace cairn
