// Plaintext and Ciphertext values: RNS polynomials in NTT form, limb-major, stamped with the
// context fingerprint, level and exact scale. Thread-safety: plain values (no sharing).
#pragma once

#include <cstdint>
#include <vector>

namespace loom::ckks {

// One polynomial over q_0..q_level: data[limb * n + i].
struct Plaintext {
  uint64_t fingerprint = 0;
  int level = 0;
  double scale = 1.0;
  uint64_t n = 0;
  std::vector<uint64_t> data;

  uint64_t* limb(size_t i) { return data.data() + i * n; }
  const uint64_t* limb(size_t i) const { return data.data() + i * n; }
};

// `size` polynomials (2 after encryption, 3 after a multiply) over q_0..q_level:
// data[(component * (level + 1) + limb) * n + i]. Decrypts to sum_c component_c * s^c.
struct Ciphertext {
  uint64_t fingerprint = 0;
  int level = 0;
  double scale = 1.0;
  uint64_t n = 0;
  int size = 0;
  std::vector<uint64_t> data;

  size_t limbs() const { return static_cast<size_t>(level) + 1; }
  uint64_t* poly(int component, size_t limb) {
    return data.data() + (static_cast<size_t>(component) * limbs() + limb) * n;
  }
  const uint64_t* poly(int component, size_t limb) const {
    return data.data() + (static_cast<size_t>(component) * limbs() + limb) * n;
  }
};

}  // namespace loom::ckks
