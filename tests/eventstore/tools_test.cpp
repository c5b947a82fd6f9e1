#include "cairn/eventstore/tools.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "temp_dir.hpp"

namespace cairn::eventstore {
namespace {

using cairn::testing::TempDir;

std::unique_ptr<EventStore> OpenAt(const std::string& path) {
  Options o;
  o.path = path;
  auto r = EventStore::Open(o);
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(*r) : nullptr;
}

void Fill(EventStore& s, int n) {
  std::vector<AppendRequest> reqs;
  for (int i = 0; i < n; ++i) {
    AppendRequest r;
    NewEvent e;
    e.stream = "goal-" + std::to_string(i % 4);
    e.type = "goal.checked_in";
    e.actor = "bob";
    e.data =
        R"({"value":)" + std::to_string(i) + R"(,"note":"caf\u00e9 \"x\""})";
    r.events.push_back(e);
    reqs.push_back(std::move(r));
  }
  // One synced write per group of requests.
  for (auto& res : s.AppendMany(reqs)) ASSERT_TRUE(res.ok());
}

std::vector<Event> All(const EventStore& s) {
  std::vector<Event> out;
  EXPECT_TRUE(s.ReadAll(0, [&](const Event& e) {
                 out.push_back(e);
                 return true;
               }).ok());
  return out;
}

TEST(Tools, ExportImportKeepsPositionsIdsHashesAndEpoch) {
  TempDir dir;
  auto src = OpenAt(dir.Sub("src"));
  Fill(*src, 5000);  // more than one import chunk
  std::stringstream ndjson;
  ASSERT_TRUE(ExportNdjson(*src, 0, ndjson).ok());
  auto dst = OpenAt(dir.Sub("dst"));
  std::vector<uint64_t> progress;
  ASSERT_TRUE(ImportNdjson(*dst, ndjson, [&](uint64_t n) {
                progress.push_back(n);
              }).ok());
  EXPECT_EQ(progress.back(), 5000u);
  EXPECT_GE(progress.size(), 2u);
  EXPECT_EQ(dst->Head(), 5000u);
  EXPECT_EQ(dst->Epoch(), src->Epoch());
  EXPECT_EQ(All(*dst), All(*src));
  EXPECT_EQ(dst->StreamVersion("goal-1"), src->StreamVersion("goal-1"));
  EXPECT_TRUE(dst->Verify().ok);
  // The imported store goes on appending with a valid chain.
  Fill(*dst, 3);
  EXPECT_TRUE(dst->Verify().ok);
  // The epoch survives reopening the imported store.
  std::string epoch = dst->Epoch();
  dst.reset();
  dst = OpenAt(dir.Sub("dst"));
  EXPECT_EQ(dst->Epoch(), epoch);
}

TEST(Tools, ImportRefusesANonEmptyStoreAndABrokenChain) {
  TempDir dir;
  auto src = OpenAt(dir.Sub("src"));
  Fill(*src, 10);
  std::stringstream ndjson;
  ASSERT_TRUE(ExportNdjson(*src, 0, ndjson).ok());
  std::string text = ndjson.str();
  {
    std::stringstream in(text);
    auto st = ImportNdjson(*src, in);
    ASSERT_FALSE(st.ok());
  }
  // Change one event's data: its hash no longer holds.
  std::string forged = text;
  size_t at = forged.find("\"value\":3");
  ASSERT_NE(at, std::string::npos);
  forged[at + 8] = '4';
  auto dst = OpenAt(dir.Sub("dst"));
  std::stringstream in(forged);
  auto st = ImportNdjson(*dst, in);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("hash"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(dst->Head(), 0u);  // the chunk holding the bad event wrote nothing
  std::stringstream garbage("hello\n");
  EXPECT_FALSE(ImportNdjson(*dst, garbage).ok());
}

TEST(Tools, ExportFromAPositionAndVerifyExitCodes) {
  TempDir dir;
  {
    auto src = OpenAt(dir.Sub("src"));
    Fill(*src, 10);
    std::stringstream out;
    ASSERT_TRUE(ExportNdjson(*src, 7, out).ok());
    std::string line;
    int lines = 0;
    while (std::getline(out, line)) ++lines;
    EXPECT_EQ(lines, 1 + 3);
    // Verify works beside an open store (read-only).
    std::stringstream report;
    EXPECT_EQ(RunVerify(dir.Sub("src"), report), 0) << report.str();
    EXPECT_NE(report.str().find("OK"), std::string::npos);
  }
  std::stringstream report;
  EXPECT_EQ(RunVerify(dir.Sub("missing"), report), 1);
  ASSERT_TRUE(RunBackup(dir.Sub("src"), dir.Sub("bk")).ok());
  std::stringstream report2;
  EXPECT_EQ(RunVerify(dir.Sub("bk"), report2), 0) << report2.str();
}

}  // namespace
}  // namespace cairn::eventstore
