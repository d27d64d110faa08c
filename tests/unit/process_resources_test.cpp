// Unit tests for the process set-up vznet does before it starts: the descriptor limit it asks for, and the
// private directory its default sockets live in (refused when another user could have prepared it); and the
// heap in use the control API reports.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "app/process_resources.h"

namespace vznet::app {
namespace {

TEST(DescriptorLimit, TakesTheHardLimit) {
  EXPECT_EQ(wanted_descriptor_limit(1024, 1048576, std::nullopt), 1048576u);
  EXPECT_EQ(wanted_descriptor_limit(1024, 1024, std::nullopt), 1024u);
}

TEST(DescriptorLimit, AnInfiniteHardLimitIsClampedToThePlatformCap) {
  // macOS: hard limit RLIM_INFINITY, setrlimit() refuses more than OPEN_MAX (10240), default soft 256.
  EXPECT_EQ(wanted_descriptor_limit(256, RLIM_INFINITY, rlim_t{10240}), 10240u);
  EXPECT_EQ(wanted_descriptor_limit(256, 4096, rlim_t{10240}), 4096u);
}

TEST(DescriptorLimit, NeverLowersTheCurrentLimit) {
  EXPECT_EQ(wanted_descriptor_limit(20000, RLIM_INFINITY, rlim_t{10240}), 20000u);
  EXPECT_EQ(wanted_descriptor_limit(RLIM_INFINITY, RLIM_INFINITY, std::nullopt), RLIM_INFINITY);
}

TEST(HeapInUse, CountsWhatIsHeldAndNotWhatWasFreed) {
  const std::optional<std::size_t> before = heap_in_use();
  if (!before) GTEST_SKIP() << "this allocator does not say how much it has handed out";
  constexpr std::size_t kBlock = 4 << 20;
  auto block = std::make_unique<char[]>(kBlock);
  std::memset(block.get(), 1, kBlock);
  static char* volatile escape;  // the block must really be allocated, not optimized away
  escape = block.get();
  ASSERT_NE(escape, nullptr);
  const std::size_t holding = heap_in_use().value();
  EXPECT_GE(holding, *before + kBlock);
  block.reset();
  EXPECT_LE(heap_in_use().value(), holding - kBlock);
}

class PrivateDirectory : public ::testing::Test {
 protected:
  PrivateDirectory() {
    char pattern[] = "/tmp/vznet-dir-test.XXXXXX";
    base_ = ::mkdtemp(pattern);
    path_ = base_ + "/vznet";
  }
  ~PrivateDirectory() override { std::filesystem::remove_all(base_); }
  std::string base_, path_;
};

TEST_F(PrivateDirectory, CreatesItWithMode0700) {
  ::umask(0);  // even with no umask at all
  ensure_private_directory(path_);
  ::umask(022);
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  EXPECT_NO_THROW(ensure_private_directory(path_));  // and accepts it the next time
}

TEST_F(PrivateDirectory, RefusesOneWritableByOthers) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0777), 0);
  EXPECT_THROW(ensure_private_directory(path_), std::runtime_error);
  ASSERT_EQ(::chmod(path_.c_str(), 0720), 0);
  EXPECT_THROW(ensure_private_directory(path_), std::runtime_error);
}

TEST_F(PrivateDirectory, RefusesASymlink) {
  ASSERT_EQ(::symlink(base_.c_str(), path_.c_str()), 0);
  EXPECT_THROW(ensure_private_directory(path_), std::runtime_error);
}

TEST_F(PrivateDirectory, RefusesOneOwnedByAnotherUser) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root to give the directory away";
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  ASSERT_EQ(::chown(path_.c_str(), 65534, 65534), 0);  // nobody
  try {
    ensure_private_directory(path_);
    FAIL() << "accepted a directory of uid 65534";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("uid 65534"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vznet::app
