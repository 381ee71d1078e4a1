#include "loom/tessel/placements.h"

#include <numeric>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

std::vector<int> AllDevices(int n) {
  std::vector<int> d(static_cast<size_t>(n));
  std::iota(d.begin(), d.end(), 0);
  return d;
}

// Adds a backward for `fwd_name` on `device`: one B block, or B then W under split_w.
// Returns {first id, last id on the critical chain, W id or -1}.
struct Bwd {
  int b;
  int w;
};
Bwd AddBackward(Placement& p, const PlacementOptions& o, const std::string& tag, int device,
                double b_span, double w_span, double mem) {
  if (!o.split_w) return {p.AddBlock("b" + tag, BlockType::kBackward, {device}, b_span, mem), -1};
  // The ZB paper's accounting: B frees the activations it needed (M_B), W holds the small
  // remainder (M_W = w_memory of the forward's delta) until it runs.
  int b = p.AddBlock("b" + tag, BlockType::kBackward, {device}, b_span, mem * (1 - o.w_memory));
  int w = p.AddBlock("w" + tag, BlockType::kWeight, {device}, w_span, mem * o.w_memory);
  p.AddEdge(b, w);
  return {b, w};
}

// A V chain: forwards on `fdevs` in order, backwards in reverse. Returns the chain ids
// (W blocks hang off their B and are not on the chain).
std::vector<int> VChain(Placement& p, const PlacementOptions& o, const std::string& prefix,
                        const std::vector<int>& fdevs, double f, double b, double w,
                        std::vector<int>* fwd_out = nullptr, std::vector<int>* bwd_out = nullptr) {
  std::vector<int> chain;
  for (size_t i = 0; i < fdevs.size(); ++i) {
    int id = p.AddBlock(StrCat("f", prefix, i), BlockType::kForward, {fdevs[i]}, f, 1);
    chain.push_back(id);
    if (fwd_out) fwd_out->push_back(id);
  }
  if (!o.train) return chain;
  for (size_t k = fdevs.size(); k-- > 0;) {
    Bwd bw = AddBackward(p, o, StrCat(prefix, k), fdevs[k], b, w, -1);
    chain.push_back(bw.b);
    if (bwd_out) bwd_out->push_back(bw.b);
  }
  return chain;
}

int Tp(Placement& p, const PlacementOptions& o, const std::string& name, BlockType t) {
  return p.AddBlock(name, t, AllDevices(p.num_devices), o.tp_span, 0);
}

}  // namespace

std::vector<std::string> PlacementNames() {
  return {"vshape", "xshape",   "mshape",    "nnshape",     "nnshape_eager", "kshape",
          "interlaced", "finetune", "alphafold", "interleaved", "zbv"};
}

StatusOr<Placement> MakePlacement(const std::string& raw_name, const PlacementOptions& o0) {
  PlacementOptions o = o0;
  std::string name = raw_name;
  if (name == "1f1b" || name == "v") name = "vshape";
  if (name == "chimera" || name == "x") name = "xshape";
  if (name == "mllm" || name == "interlace_mlm") name = "interlaced";
  if (name == "zb") {
    name = "vshape";
    o.split_w = true;
  }
  const int n = o.devices;
  if (n < 1 || n > 1024)
    return InvalidArgumentError(StrCat("placement ", raw_name, ": devices ", n,
                                       " must be in [1, 1024]"));
  if (!(o.f > 0) || !(o.b > 0) || (o.split_w && !(o.w > 0)) || !(o.tp_span > 0))
    return InvalidArgumentError(StrCat("placement ", raw_name, ": spans must be positive"));
  if (o.split_w && !o.train)
    return InvalidArgumentError(StrCat("placement ", raw_name, ": split_w needs training"));
  Placement p;
  p.name = name;
  p.num_devices = n;
  std::vector<int> fwd_devs = AllDevices(n);
  if (name == "vshape") {
    p.Chain(VChain(p, o, "", fwd_devs, o.f, o.b, o.w));
  } else if (name == "xshape") {
    p.Chain(VChain(p, o, "v", fwd_devs, o.f, o.b, o.w));
    std::vector<int> rev(fwd_devs.rbegin(), fwd_devs.rend());
    p.Chain(VChain(p, o, "x", rev, o.f, o.b, o.w));
  } else if (name == "mshape" || name == "finetune") {
    int head = Tp(p, o, "tp_f", BlockType::kForward);
    std::vector<int> chain = {head};
    if (name == "finetune") {
      // Frozen head: backward only through the pipelined stages (Tessel uses B = 2 here).
      for (int i = 0; i < n; ++i)
        chain.push_back(p.AddBlock(StrCat("f", i), BlockType::kForward, {i}, o.f, 1));
      if (o.train)
        for (int i = n; i-- > 0;) chain.push_back(AddBackward(p, o, StrCat(i), i, o.b, o.w, -1).b);
    } else {
      auto v = VChain(p, o, "", fwd_devs, o.f, o.b, o.w);
      chain.insert(chain.end(), v.begin(), v.end());
      if (o.train) chain.push_back(Tp(p, o, "tp_b", BlockType::kBackward));
    }
    p.Chain(chain);
  } else if (name == "nnshape" || name == "nnshape_eager" || name == "interlaced") {
    // Forward chain with all-device blocks inserted; backward mirrors it.
    std::vector<int> chain;
    std::vector<int> fwd_pos;  // where the middle TP block sits among the stage forwards
    int mid_at = name == "nnshape" ? n / 2 : name == "nnshape_eager" ? 1 : n;
    bool head_tp = true;
    if (head_tp) chain.push_back(Tp(p, o, "tp0_f", BlockType::kForward));
    for (int i = 0; i < n; ++i) {
      if (i == mid_at) chain.push_back(Tp(p, o, "tp1_f", BlockType::kForward));
      chain.push_back(p.AddBlock(StrCat("f", i), BlockType::kForward, {i}, o.f, 1));
    }
    if (mid_at == n) chain.push_back(Tp(p, o, "tp1_f", BlockType::kForward));
    if (o.train) {
      if (mid_at == n) chain.push_back(Tp(p, o, "tp1_b", BlockType::kBackward));
      for (int i = n; i-- > 0;) {
        chain.push_back(AddBackward(p, o, StrCat(i), i, o.b, o.w, -1).b);
        if (i == mid_at && mid_at != n) chain.push_back(Tp(p, o, "tp1_b", BlockType::kBackward));
      }
      chain.push_back(Tp(p, o, "tp0_b", BlockType::kBackward));
    }
    p.Chain(chain);
  } else if (name == "kshape") {
    if (n < 2 || n % 2 != 0)
      return InvalidArgumentError(StrCat("placement kshape: devices ", n, " must be even"));
    std::vector<int> left(fwd_devs.begin(), fwd_devs.begin() + n / 2);
    std::vector<int> right(fwd_devs.begin() + n / 2, fwd_devs.end());
    std::vector<int> fl, fr;
    for (size_t i = 0; i < left.size(); ++i)
      fl.push_back(p.AddBlock(StrCat("fl", i), BlockType::kForward, {left[i]}, o.f, 1));
    for (size_t i = 0; i < right.size(); ++i)
      fr.push_back(p.AddBlock(StrCat("fr", i), BlockType::kForward, {right[i]}, o.f, 1));
    p.Chain(fl);
    p.Chain(fr);
    int loss_f = p.AddBlock("loss_f", BlockType::kForward, AllDevices(n), o.tp_span, 1);
    p.AddEdge(fl.back(), loss_f);
    p.AddEdge(fr.back(), loss_f);
    if (o.train) {
      int loss_b = p.AddBlock("loss_b", BlockType::kBackward, AllDevices(n), o.tp_span, -1);
      p.AddEdge(loss_f, loss_b);
      for (const auto& [devs, tag] : {std::pair{left, std::string("l")}, {right, "r"}}) {
        std::vector<int> bc = {loss_b};
        for (size_t k = devs.size(); k-- > 0;)
          bc.push_back(AddBackward(p, o, StrCat(tag, k), devs[k], o.b, o.w, -1).b);
        p.Chain(bc);
      }
    }
  } else if (name == "alphafold") {
    // Recycling: two no-grad sweeps (memory 0), then the sweep that keeps activations.
    std::vector<int> chain;
    for (int sweep = 0; sweep < 3; ++sweep)
      for (int i = 0; i < n; ++i)
        chain.push_back(p.AddBlock(StrCat("f", sweep, "_", i), BlockType::kForward, {i}, o.f,
                                   sweep == 2 ? 1 : 0));
    if (o.train)
      for (int i = n; i-- > 0;) chain.push_back(AddBackward(p, o, StrCat(i), i, o.b, o.w, -1).b);
    p.Chain(chain);
  } else if (name == "interleaved" || name == "zbv") {
    // Multi-chunk V: each device holds `chunks` model chunks, each with 1/chunks of the work.
    // interleaved: chunk c visits devices 0..N-1 (Megatron); zbv: chunks alternate direction.
    int v = o.chunks;
    if (v < 1 || v > 64)
      return InvalidArgumentError(StrCat("placement ", name, ": chunks ", v, " not in [1, 64]"));
    if (name == "zbv" && v != 2)
      return InvalidArgumentError("placement zbv: chunks must be 2");
    std::vector<int> stage_dev;
    for (int c = 0; c < v; ++c)
      for (int i = 0; i < n; ++i)
        stage_dev.push_back(name == "zbv" && c % 2 == 1 ? n - 1 - i : i);
    std::vector<int> chain;
    for (size_t s = 0; s < stage_dev.size(); ++s)
      chain.push_back(p.AddBlock(StrCat("f", s), BlockType::kForward, {stage_dev[s]}, o.f / v, 1));
    if (o.train)
      for (size_t s = stage_dev.size(); s-- > 0;)
        chain.push_back(AddBackward(p, o, StrCat(s), stage_dev[s], o.b / v, o.w / v, -1).b);
    p.Chain(chain);
  } else {
    std::string names;
    for (const auto& nm : PlacementNames()) names += (names.empty() ? "" : ", ") + nm;
    return InvalidArgumentError(StrCat("unknown placement '", raw_name, "' (", names, ")"));
  }
  if (!o.train)
    for (Block& b : p.blocks) b.memory.assign(b.devices.size(), 0.0);
  p.SetCap(o.cap);
  LOOM_RETURN_IF_ERROR(ValidatePlacement(p));
  return p;
}

}  // namespace loom::tessel
