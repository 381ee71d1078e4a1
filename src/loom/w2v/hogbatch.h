// One HogBatch minibatch update (pWord2Vec's shared-negative skip-gram step, brief 3.2):
// inputs I (B context rows of syn0), outputs O (the centre word with label 1, then K'
// distinct negatives with label 0 and a multiplicity each). From one snapshot of the rows:
//   G = O I^T;  G <- alpha (label - sigma(G)) * multiplicity (word2vec.c's table and clipping);
//   dO = G I;   dI = G^T O;  then syn1neg[O] += dO and syn0[I] += dI.
// The three products are small dense GEMMs done by register-blocked loops (B <= 2 window,
// 1+K' <= 1+negative), cheaper than a BLAS call at these sizes.
// Thread-safety: Hogwild, like word2vec.c: concurrent calls may race on shared rows.
#pragma once

#include <cstdint>
#include <vector>

#include "loom/w2v/tables.h"

namespace loom::w2v {

struct HogBatchScratch {
  std::vector<float> in, out, grad;
};

// inputs[0..b), outputs[0..o) with outputs[0] the positive; mult[j] the count of negative j
// (mult[0] is 1). syn0 / syn1neg are V x dim.
void HogBatchUpdate(const int32_t* inputs, int b, const int32_t* outputs, const float* mult,
                    int o, float alpha, int64_t dim, const SigmoidTable& sigmoid, float* syn0,
                    float* syn1neg, HogBatchScratch* scratch);

}  // namespace loom::w2v
