#include "loom/base/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loom/base/csprng.h"

namespace loom {
namespace {

Status ErrnoError(const std::string& op, const std::string& path, int err) {
  std::string msg = op + " '" + path + "': " + std::strerror(err);
  if (err == ENOENT) return NotFoundError(msg);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError(msg);
  if (err == EACCES || err == EPERM || err == EISDIR || err == ENOTDIR)
    return FailedPreconditionError(msg);
  return InternalError(msg);
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

constexpr size_t kWriteBuffer = 1 << 20;

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, std::string temp_path, int fd)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {}

StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Open(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("output path is empty");
  uint64_t nonce = 0;
  LOOM_RETURN_IF_ERROR(
      OsRandomBytes(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&nonce), sizeof(nonce))));
  char suffix[48];
  std::snprintf(suffix, sizeof(suffix), ".tmp.%d.%08llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(nonce & 0xffffffffull));
  std::string temp = path + suffix;
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create temporary file for", path, errno);
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, std::move(temp), fd));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

Status AtomicFileWriter::FlushBuffer() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write failed for", path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return OkStatus();
}

Status AtomicFileWriter::Append(std::string_view data) {
  if (committed_ || fd_ < 0) return FailedPreconditionError("writer for '" + path_ + "' is closed");
  if (buffer_.size() + data.size() > kWriteBuffer) {
    LOOM_RETURN_IF_ERROR(FlushBuffer());
    if (data.size() > kWriteBuffer) {
      buffer_.assign(data);
      return FlushBuffer();
    }
  }
  buffer_.append(data);
  return OkStatus();
}

Status AtomicFileWriter::Commit() {
  if (committed_ || fd_ < 0) return FailedPreconditionError("writer for '" + path_ + "' is closed");
  LOOM_RETURN_IF_ERROR(FlushBuffer());
  if (::fsync(fd_) != 0) return ErrnoError("fsync failed for", path_, errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return ErrnoError("close failed for", path_, errno);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    return ErrnoError("cannot rename temporary file onto", path_, errno);
  committed_ = true;
  // Make the rename itself durable.
  int dir = ::open(DirName(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  LOOM_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Open(path));
  LOOM_RETURN_IF_ERROR(writer->Append(contents));
  return writer->Commit();
}

StatusOr<std::string> ReadFileToString(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError("cannot read '" + path + "': is a directory");
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError("read failed for", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError("cannot map '" + path + "': not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return ErrnoError("cannot mmap", path, err);
    }
    data = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return std::unique_ptr<MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && size_ > 0) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace loom
