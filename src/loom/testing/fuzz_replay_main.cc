// Replays a libFuzzer target without libFuzzer, so every fuzz target also runs as a plain
// test in every build: each file of the seed corpus (argv[1]) is fed as is, then a fixed
// number of deterministic mutations of the seeds (byte flips, truncations, splices, inserted
// brackets and digits). Under the asan preset this catches memory errors on hostile input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "loom/base/random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  if (argc > 1 && std::filesystem::is_directory(argv[1])) {
    for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (seeds.empty()) seeds.emplace_back("");
  int iterations = argc > 2 ? std::atoi(argv[2]) : 5000;
  for (const std::string& s : seeds)
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());

  loom::Prng rng(12345);
  static const char kInteresting[] = "{}[]<>\"'\\/:,.-+eE0123456789 \n\t\x00\xff";
  for (int it = 0; it < iterations; ++it) {
    std::string s = seeds[rng.Uniform(seeds.size())];
    int edits = 1 + static_cast<int>(rng.Uniform(8));
    for (int e = 0; e < edits; ++e) {
      switch (rng.Uniform(5)) {
        case 0:  // flip a byte
          if (!s.empty()) s[rng.Uniform(s.size())] ^= static_cast<char>(1 + rng.Uniform(255));
          break;
        case 1:  // truncate
          if (!s.empty()) s.resize(rng.Uniform(s.size()));
          break;
        case 2:  // insert an interesting byte
          s.insert(s.begin() + static_cast<long>(rng.Uniform(s.size() + 1)),
                   kInteresting[rng.Uniform(sizeof(kInteresting) - 1)]);
          break;
        case 3: {  // splice with another seed
          const std::string& o = seeds[rng.Uniform(seeds.size())];
          if (!o.empty()) {
            size_t at = rng.Uniform(s.size() + 1);
            size_t from = rng.Uniform(o.size());
            s = s.substr(0, at) + o.substr(from);
          }
          break;
        }
        case 4:  // duplicate a range
          if (!s.empty()) {
            size_t b = rng.Uniform(s.size());
            size_t len = 1 + rng.Uniform(std::min<size_t>(64, s.size() - b));
            s.insert(b, s.substr(b, len));
          }
          break;
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::printf("fuzz replay: %zu seeds, %d mutated inputs, no crash\n", seeds.size(), iterations);
  return 0;
}
