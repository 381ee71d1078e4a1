#include "loom/base/file_io.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "loom/testing/temp_dir.h"

namespace loom {
namespace {

using loom::testing::TempDir;

int CountEntries(const std::string& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(FileIoTest, AtomicWriteReplacesContents) {
  TempDir dir;
  std::string path = dir.File("model.bin");
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "new contents").ok());
  EXPECT_EQ(*ReadFileToString(path), "new contents");
  EXPECT_EQ(CountEntries(dir.path()), 1) << "temporary file left behind";
}

TEST(FileIoTest, AbandonedWriterLeavesOldFileAndNoTemp) {
  TempDir dir;
  std::string path = dir.File("vectors.txt");
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  {
    auto writer = AtomicFileWriter::Open(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(std::string(3 << 20, 'x')).ok());  // forces real writes
  }
  EXPECT_EQ(*ReadFileToString(path), "old");
  EXPECT_EQ(CountEntries(dir.path()), 1);
}

TEST(FileIoTest, ProcessKilledMidWriteLeavesOldFileIntact) {
  // A child process starts replacing the file, writes part of it and is SIGKILLed before
  // Commit: the crash we guard against. The old contents must survive unchanged.
  TempDir dir;
  std::string path = dir.File("checkpoint.bin");
  std::string old_contents(100000, 'o');
  ASSERT_TRUE(WriteFileAtomically(path, old_contents).ok());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto writer = AtomicFileWriter::Open(path);
    if (!writer.ok()) ::_exit(2);
    if (!(*writer)->Append(std::string(4 << 20, 'n')).ok()) ::_exit(3);
    char c = 'r';
    if (::write(ready[1], &c, 1) != 1) ::_exit(4);
    for (;;) ::pause();  // killed here, mid-write
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_EQ(*ReadFileToString(path), old_contents);
}

TEST(FileIoTest, ErrorsNameThePath) {
  TempDir dir;
  std::string missing = dir.File("no/such/dir/out.json");
  Status s = WriteFileAtomically(missing, "x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(missing), std::string::npos) << s;
  auto r = ReadFileToString(dir.File("absent"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("absent"), std::string::npos);
  EXPECT_EQ(ReadFileToString(dir.path()).status().code(), StatusCode::kFailedPrecondition);
}

TEST(FileIoTest, CommitTwiceIsRejected) {
  TempDir dir;
  auto writer = AtomicFileWriter::Open(dir.File("a"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ((*writer)->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Append("x").code(), StatusCode::kFailedPrecondition);
}

TEST(FileIoTest, MappedFileSeesWrittenBytes) {
  TempDir dir;
  std::string path = dir.File("data");
  std::string contents;
  for (int i = 0; i < 70000; ++i) contents.push_back(static_cast<char>(i * 31));
  ASSERT_TRUE(WriteFileAtomically(path, contents).ok());
  auto mapped = MappedFile::Open(path);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ((*mapped)->view(), contents);

  ASSERT_TRUE(WriteFileAtomically(dir.File("empty"), "").ok());
  auto empty = MappedFile::Open(dir.File("empty"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->size(), 0u);
  EXPECT_EQ(MappedFile::Open(dir.File("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MappedFile::Open(dir.path()).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace loom
