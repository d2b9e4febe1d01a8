#include "base/file.h"

#include <cerrno>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nhitrace {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("nhitrace_file_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(FileTest, WriteNewFileThenRead) {
  const std::string p = Path("key");
  std::string contents("secret\0with nul\n", 16);
  ASSERT_TRUE(WriteNewFile(p, contents, 0600).ok());
  EXPECT_TRUE(PathExists(p));
  Result<std::string> r = ReadFileToString(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, contents);
  Result<mode_t> mode = FileMode(p);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);
}

// The mode is exact even when the umask would have removed bits.
TEST_F(FileTest, ModeIgnoresUmask) {
  mode_t old = ::umask(0077);
  Status s = WriteNewFile(Path("shared"), "x", 0644);
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*FileMode(Path("shared")), 0644u);
}

TEST_F(FileTest, RefusesExistingFileAndSymlink) {
  const std::string p = Path("existing");
  ASSERT_TRUE(WriteNewFile(p, "first", 0600).ok());
  Status again = WriteNewFile(p, "second", 0600);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFileToString(p), "first");

  const std::string link = Path("link");
  ASSERT_EQ(::symlink(Path("target").c_str(), link.c_str()), 0);
  Status via_link = WriteNewFile(link, "x", 0600);
  EXPECT_FALSE(via_link.ok());
  EXPECT_FALSE(PathExists(Path("target"))) << "a symlink must never be followed";
}

TEST_F(FileTest, ReadErrors) {
  Result<std::string> missing = ReadFileToString(Path("missing"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);

  ASSERT_TRUE(WriteNewFile(Path("big"), std::string(100, 'a'), 0600).ok());
  EXPECT_TRUE(ReadFileToString(Path("big"), 100).ok());
  EXPECT_EQ(ReadFileToString(Path("big"), 99).status().code(), StatusCode::kResourceExhausted);

  EXPECT_FALSE(PathExists(Path("missing")));
  EXPECT_EQ(FileMode(Path("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(WriteNewFile(Path("no/such/dir"), "x", 0600).ok());
}

TEST_F(FileTest, UniqueFdClosesAndMoves) {
  int raw = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    EXPECT_TRUE(a.valid());
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is defined
    EXPECT_EQ(b.get(), raw);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move)
  }
  errno = 0;
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1) << "the descriptor must be closed";
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(ErrnoMessage(ENOENT), "No such file or directory");
}

}  // namespace
}  // namespace nhitrace
