// C2SP tlog-tiles paths: only the canonical spelling of each resource is
// served, so a cache never holds one tile under two names.
#include "gateway/witnessing/witness_listener.h"
#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

TEST(TilePathTest, FullAndPartialTilesAndEntryBundlesParse) {
  auto t = ParseTilePath("0/000");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->level, 0);
  EXPECT_EQ(t->index, 0u);
  EXPECT_EQ(t->width, 256);
  t = ParseTilePath("2/x001/x234/067.p/8");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->level, 2);
  EXPECT_EQ(t->index, 1234067u);
  EXPECT_EQ(t->width, 8);
  t = ParseTilePath("entries/x001/000.p/255");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->level, -1);
  EXPECT_EQ(t->index, 1000u);
  EXPECT_EQ(t->width, 255);
}

TEST(TilePathTest, NonCanonicalPathsAreRefused) {
  for (const char* path :
       {"", "0", "00/000", "64/000", "-1/000", "0/0", "0/0000", "0/x000", "0/001/002", "0/000.p/0",
        "0/000.p/256", "0/000.p/08", "0/000.p", "0/000.p/1/2", "entries", "tiles/000", "0/x1/000",
        "0/00a", "0/x001/x002/x003/x004/x005/x006/x007/x008/000"}) {
    EXPECT_FALSE(ParseTilePath(path).ok()) << path;
  }
}

}  // namespace
}  // namespace safeshare::gateway
