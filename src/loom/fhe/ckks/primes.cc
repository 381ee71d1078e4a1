#include "loom/fhe/ckks/primes.h"

#include <algorithm>
#include <map>

#include "loom/base/strings.h"
#include "loom/fhe/ckks/modarith.h"

namespace loom::ckks {

int BitLength(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

bool IsPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t p : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int r = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++r;
  }
  auto mulmod = [n](uint64_t a, uint64_t b) {
    return static_cast<uint64_t>(static_cast<u128>(a) * b % n);
  };
  // These 12 bases are a proven deterministic set for n < 3.3e24.
  for (uint64_t a : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    uint64_t x = 1, b = a % n, e = d;
    while (e) {
      if (e & 1) x = mulmod(x, b);
      b = mulmod(b, b);
      e >>= 1;
    }
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < r; ++i) {
      x = mulmod(x, x);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

StatusOr<std::vector<uint64_t>> GenerateNttPrimes(uint64_t poly_degree, std::span<const int> bits) {
  const uint64_t two_n = 2 * poly_degree;
  // For each bit size, the count asked for, found counting down from 2^bits in steps of 2N,
  // then handed out smallest first (SEAL's CoeffModulus::Create order: the first 60-bit
  // prime of {60, 40, 40, 60} is the smaller one, the special prime the larger).
  std::map<int, int> count;
  for (int b : bits) {
    if (b < 2 || b > 60)
      return InvalidArgumentError(StrCat("prime bit size ", b, " is outside [2, 60]"));
    ++count[b];
  }
  std::map<int, std::vector<uint64_t>> found;
  for (const auto& [b, k] : count) {
    const uint64_t low = uint64_t{1} << (b - 1), high = uint64_t{1} << b;
    if (two_n >= high)
      return InvalidArgumentError(StrCat(b, "-bit primes cannot be 1 mod 2N=", two_n));
    std::vector<uint64_t>& list = found[b];
    for (uint64_t c = high - two_n + 1; static_cast<int>(list.size()) < k && c > low; c -= two_n)
      if (IsPrime(c)) list.push_back(c);
    if (static_cast<int>(list.size()) < k)
      return InvalidArgumentError(StrCat("only ", list.size(), " ", b,
                                         "-bit primes are 1 mod 2N=", two_n, "; asked for ", k));
  }
  std::vector<uint64_t> out;
  for (int b : bits) {
    out.push_back(found[b].back());
    found[b].pop_back();
  }
  return out;
}

StatusOr<uint64_t> MinimalPrimitiveRoot(uint64_t two_n, uint64_t q) {
  if ((q - 1) % two_n != 0)
    return InvalidArgumentError(StrCat("prime ", q, " is not 1 mod 2N=", two_n));
  Modulus mod(q);
  const uint64_t cofactor = (q - 1) / two_n;
  uint64_t root = 0;
  for (uint64_t x = 2; x < q && root == 0; ++x) {
    uint64_t g = PowMod(x, cofactor, mod);
    if (PowMod(g, two_n / 2, mod) == q - 1) root = g;  // order exactly 2N (2N is a power of 2)
  }
  if (root == 0) return InternalError(StrCat("no primitive 2N-th root mod ", q));
  // The smallest generator: walk the odd powers root^(2k+1), which are all primitive roots.
  uint64_t sq = mod.Mul(root, root), cur = root, best = root;
  for (uint64_t k = 0; k < two_n / 2; ++k) {
    best = std::min(best, cur);
    cur = mod.Mul(cur, sq);
  }
  return best;
}

}  // namespace loom::ckks
