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
  std::map<int, uint64_t> next;  // bit size -> next candidate to test
  std::vector<uint64_t> out;
  for (int b : bits) {
    if (b < 2 || b > 60)
      return InvalidArgumentError(StrCat("prime bit size ", b, " is outside [2, 60]"));
    auto it = next.find(b);
    if (it == next.end()) it = next.emplace(b, (uint64_t{1} << b) - two_n + 1).first;
    const uint64_t low = uint64_t{1} << (b - 1);
    uint64_t c = it->second;
    while (c > low && c < (uint64_t{1} << b) && !IsPrime(c)) c -= two_n;
    if (c <= low || c >= (uint64_t{1} << b))
      return InvalidArgumentError(StrCat("no more ", b, "-bit primes congruent to 1 mod 2N=", two_n,
                                         " (asked for too many, or bits too small for N)"));
    out.push_back(c);
    it->second = c - two_n;
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
