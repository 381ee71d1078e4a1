// File access for everything loom reads and writes.
//
// Writes are atomic: data goes to a temporary file beside the target, is fsync'ed, then
// renamed over the target (and the directory fsync'ed), so a crash at any point leaves either
// the old file or the new one, never half of one. Reads of large files are memory-mapped.
// Every error names the path and the failing operation.
// Thread-safety: distinct objects may be used from distinct threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "loom/base/status.h"

namespace loom {

// Streams data into `path` atomically. Nothing is visible at `path` until Commit() succeeds;
// destroying an uncommitted writer removes the temporary file and leaves `path` untouched.
class AtomicFileWriter {
 public:
  static StatusOr<std::unique_ptr<AtomicFileWriter>> Open(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Status Append(std::string_view data);
  Status Append(std::span<const uint8_t> data) {
    return Append(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  // Flushes, fsyncs and renames over the target. The writer is finished afterwards.
  Status Commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFileWriter(std::string path, std::string temp_path, int fd);
  Status FlushBuffer();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::string buffer_;
  bool committed_ = false;
};

// Writes `contents` to `path` atomically (AtomicFileWriter in one call).
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Reads a whole file. NotFound if it does not exist.
StatusOr<std::string> ReadFileToString(const std::string& path);

bool FileExists(const std::string& path);

// A read-only memory mapping of a whole file (an empty file maps to an empty span).
class MappedFile {
 public:
  static StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace loom
