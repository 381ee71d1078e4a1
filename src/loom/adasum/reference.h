// The slow obvious Adasum: the pairwise operator and the reduction tree in double, sequential.
// The oracle of every Adasum test (Horovod's tests compare against the same tree).
// Thread-safety: pure functions.
#pragma once

#include <vector>

namespace loom::adasum {

// Adasum(a, b) in double with the zero-norm guard.
std::vector<double> PairReference(const std::vector<double>& a, const std::vector<double>& b);

// inputs[rank] = that rank's vector for one tensor. For a power-of-two count: pairs (2i, 2i+1)
// at every level, ((x0⊕x1)⊕(x2⊕x3))⊕…. Otherwise (fold): x_i ⊕ x_{i+p'} for the extra ranks
// first, then the power-of-two tree over the p' = 2^⌊lg p⌋ leaves.
std::vector<double> TreeReference(const std::vector<std::vector<double>>& inputs);

// The same tree in weight space, for tensors too large to hold every rank's copy: every node of
// the tree is a linear combination of the inputs, so the result is sum_q w[q]·x_q. Given the
// Gram matrix gram[i][j] = x_i·x_j (p×p, in double), returns w (p entries); node dots are
// uᵀ·gram·v. Equal to TreeReference in exact arithmetic (the zero-norm guard included).
std::vector<double> TreeWeights(const std::vector<std::vector<double>>& gram);

}  // namespace loom::adasum
