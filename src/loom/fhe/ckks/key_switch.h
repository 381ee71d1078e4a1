// Hybrid key switching (Han-Ki, ePrint 2019/688, with SEAL's single special prime as the
// alpha = 1 case). Given d over Q_l in NTT form and a key switching s' -> s, returns (u0, u1)
// over Q_l with u0 + u1 s = d s' + small noise:
//   1. ModUp: split the limbs of d into digits of alpha primes; extend each digit to
//      Q_l * P by fast base conversion (an error of a multiple of the digit modulus is
//      harmless: the key's CRT idempotent kills it).
//   2. Inner product with the key digits over Q_l * P.
//   3. ModDown: (acc - BaseConv_P->Q([acc]_P)) * P^-1 mod q_i.
// Thread-safety: pure function over immutable inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "loom/fhe/ckks/context.h"
#include "loom/fhe/ckks/keys.h"

namespace loom::ckks {

// d: (level+1) rows of N in NTT form, values in [0, q). out0/out1: (level+1) rows each in
// NTT form, values in [0, q); the switched pair is ADDED to them (out += (u0, u1)), which is
// what relinearization and rotation need and saves a pass over the result.
void KeySwitchAdd(const Context& ctx, int level, const uint64_t* d, const KSwitchKey& key,
                  uint64_t* out0, uint64_t* out1);

}  // namespace loom::ckks
