// Weight loading by HF name; see weights.h.
#include "loom/phi/weights.h"

#include "loom/base/huge_pages.h"
#include "loom/base/strings.h"

namespace loom::phi {
namespace {

struct Names {
  std::string embed, final_w, final_b, head_w, head_b;
};

Names TopNames(const PhiConfig& c) {
  if (c.arch == Arch::kPhi3)
    return {"model.embed_tokens.weight", "model.norm.weight", "", "lm_head.weight", ""};
  if (c.legacy_names)
    return {"transformer.embd.wte.weight", "lm_head.ln.weight", "lm_head.ln.bias",
            "lm_head.linear.weight", "lm_head.linear.bias"};
  return {"model.embed_tokens.weight", "model.final_layernorm.weight",
          "model.final_layernorm.bias", "lm_head.weight", "lm_head.bias"};
}

std::string LayerPrefix(const PhiConfig& c, int64_t i) {
  return c.legacy_names ? StrCat("transformer.h.", i, ".") : StrCat("model.layers.", i, ".");
}

bool HeadTied(const PhiConfig& c, const Checkpoint* ckpt) {
  if (!c.tie_embeddings) return false;
  return ckpt == nullptr || ckpt->Find(TopNames(c).head_w) == nullptr;
}

std::vector<ExpectedTensor> Expected(const PhiConfig& c, const Checkpoint* ckpt) {
  const int64_t h = c.hidden, d = c.head_dim, q = c.heads * d, kv = c.kv_heads * d;
  const int64_t f = c.intermediate, v = c.vocab_size;
  std::vector<ExpectedTensor> e;
  Names top = TopNames(c);
  e.push_back({top.embed, {v, h}});
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = LayerPrefix(c, i);
    if (c.arch == Arch::kPhi3) {
      e.push_back({p + "input_layernorm.weight", {h}});
      e.push_back({p + "self_attn.qkv_proj.weight", {q + 2 * kv, h}});
      e.push_back({p + "self_attn.o_proj.weight", {h, q}});
      e.push_back({p + "post_attention_layernorm.weight", {h}});
      e.push_back({p + "mlp.gate_up_proj.weight", {2 * f, h}});
      e.push_back({p + "mlp.down_proj.weight", {h, f}});
    } else if (c.legacy_names) {
      e.push_back({p + "ln.weight", {h}});
      e.push_back({p + "ln.bias", {h}});
      e.push_back({p + "mixer.Wqkv.weight", {q + 2 * kv, h}});
      e.push_back({p + "mixer.Wqkv.bias", {q + 2 * kv}});
      e.push_back({p + "mixer.out_proj.weight", {h, q}});
      e.push_back({p + "mixer.out_proj.bias", {h}});
      e.push_back({p + "mlp.fc1.weight", {f, h}});
      e.push_back({p + "mlp.fc1.bias", {f}});
      e.push_back({p + "mlp.fc2.weight", {h, f}});
      e.push_back({p + "mlp.fc2.bias", {h}});
    } else {
      e.push_back({p + "input_layernorm.weight", {h}});
      e.push_back({p + "input_layernorm.bias", {h}});
      e.push_back({p + "self_attn.q_proj.weight", {q, h}});
      e.push_back({p + "self_attn.q_proj.bias", {q}});
      e.push_back({p + "self_attn.k_proj.weight", {kv, h}});
      e.push_back({p + "self_attn.k_proj.bias", {kv}});
      e.push_back({p + "self_attn.v_proj.weight", {kv, h}});
      e.push_back({p + "self_attn.v_proj.bias", {kv}});
      e.push_back({p + "self_attn.dense.weight", {h, q}});
      e.push_back({p + "self_attn.dense.bias", {h}});
      e.push_back({p + "mlp.fc1.weight", {f, h}});
      e.push_back({p + "mlp.fc1.bias", {f}});
      e.push_back({p + "mlp.fc2.weight", {h, f}});
      e.push_back({p + "mlp.fc2.bias", {h}});
    }
  }
  e.push_back({top.final_w, {h}});
  if (!top.final_b.empty()) e.push_back({top.final_b, {h}});
  if (!HeadTied(c, ckpt)) e.push_back({top.head_w, {v, h}});
  if (!top.head_b.empty()) e.push_back({top.head_b, {v}});
  return e;
}

std::string ShapeString(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += StrCat(i ? ", " : "", s[i]);
  return out + "]";
}

// Loads a tensor, checking dtype and shape.
StatusOr<std::vector<float>> Load(const Checkpoint& ckpt, const std::string& name,
                                  const std::vector<int64_t>& shape) {
  LOOM_ASSIGN_OR_RETURN(const TensorView* t, ckpt.Get(name));
  if (t->shape != shape)
    return DataLossError(StrCat(t->file, ": tensor '", name, "' has shape ",
                                ShapeString(t->shape), ", the config implies ",
                                ShapeString(shape)));
  if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16 &&
      t->dtype != DType::kF64)
    return DataLossError(StrCat(t->file, ": tensor '", name, "' has dtype ",
                                DTypeName(t->dtype), ", expected F32, F16 or BF16"));
  std::vector<float> v(static_cast<size_t>(t->numel()));
  LOOM_RETURN_IF_ERROR(t->ToFloat(v));
  return v;
}

}  // namespace

std::vector<ExpectedTensor> ExpectedTensors(const PhiConfig& config) {
  return Expected(config, nullptr);
}

Status ValidateCheckpoint(const Checkpoint& ckpt, const PhiConfig& config) {
  for (const auto& e : Expected(config, &ckpt)) {
    LOOM_ASSIGN_OR_RETURN(const TensorView* t, ckpt.Get(e.name));
    if (t->shape != e.shape)
      return DataLossError(StrCat(t->file, ": tensor '", e.name, "' has shape ",
                                  ShapeString(t->shape), ", the config implies ",
                                  ShapeString(e.shape)));
    if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16)
      return DataLossError(StrCat(t->file, ": tensor '", e.name, "' has dtype ",
                                  DTypeName(t->dtype), ", expected F32, F16 or BF16"));
  }
  return OkStatus();
}

StatusOr<PhiWeights> LoadWeights(const Checkpoint& ckpt, const PhiConfig& c) {
  LOOM_RETURN_IF_ERROR(ValidateCheckpoint(ckpt, c));
  const int64_t h = c.hidden, d = c.head_dim, q = c.heads * d, kv = c.kv_heads * d;
  const int64_t f = c.intermediate, v = c.vocab_size;
  auto linear = [&](const std::string& w, const std::string& b, int64_t out,
                    int64_t in) -> StatusOr<Linear> {
    Linear l{out, in, {}, {}, WeightType::kF32, {}};
    LOOM_ASSIGN_OR_RETURN(l.w, Load(ckpt, w, {out, in}));
    if (!b.empty()) {
      LOOM_ASSIGN_OR_RETURN(l.b, Load(ckpt, b, {out}));
    }
    return l;
  };
  PhiWeights w;
  Names top = TopNames(c);
  LOOM_ASSIGN_OR_RETURN(w.embed, Load(ckpt, top.embed, {v, h}));
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = LayerPrefix(c, i);
    LayerWeights L;
    if (c.arch == Arch::kPhi3) {
      LOOM_ASSIGN_OR_RETURN(L.norm1_w, Load(ckpt, p + "input_layernorm.weight", {h}));
      LOOM_ASSIGN_OR_RETURN(L.norm2_w, Load(ckpt, p + "post_attention_layernorm.weight", {h}));
      LOOM_ASSIGN_OR_RETURN(L.qkv, linear(p + "self_attn.qkv_proj.weight", "", q + 2 * kv, h));
      LOOM_ASSIGN_OR_RETURN(L.o, linear(p + "self_attn.o_proj.weight", "", h, q));
      LOOM_ASSIGN_OR_RETURN(L.up, linear(p + "mlp.gate_up_proj.weight", "", 2 * f, h));
      LOOM_ASSIGN_OR_RETURN(L.down, linear(p + "mlp.down_proj.weight", "", h, f));
    } else if (c.legacy_names) {
      LOOM_ASSIGN_OR_RETURN(L.norm1_w, Load(ckpt, p + "ln.weight", {h}));
      LOOM_ASSIGN_OR_RETURN(L.norm1_b, Load(ckpt, p + "ln.bias", {h}));
      LOOM_ASSIGN_OR_RETURN(L.qkv, linear(p + "mixer.Wqkv.weight", p + "mixer.Wqkv.bias",
                                          q + 2 * kv, h));
      LOOM_ASSIGN_OR_RETURN(L.o, linear(p + "mixer.out_proj.weight", p + "mixer.out_proj.bias",
                                        h, q));
      LOOM_ASSIGN_OR_RETURN(L.up, linear(p + "mlp.fc1.weight", p + "mlp.fc1.bias", f, h));
      LOOM_ASSIGN_OR_RETURN(L.down, linear(p + "mlp.fc2.weight", p + "mlp.fc2.bias", h, f));
    } else {
      LOOM_ASSIGN_OR_RETURN(L.norm1_w, Load(ckpt, p + "input_layernorm.weight", {h}));
      LOOM_ASSIGN_OR_RETURN(L.norm1_b, Load(ckpt, p + "input_layernorm.bias", {h}));
      LOOM_ASSIGN_OR_RETURN(Linear lq, linear(p + "self_attn.q_proj.weight",
                                              p + "self_attn.q_proj.bias", q, h));
      LOOM_ASSIGN_OR_RETURN(Linear lk, linear(p + "self_attn.k_proj.weight",
                                              p + "self_attn.k_proj.bias", kv, h));
      LOOM_ASSIGN_OR_RETURN(Linear lv, linear(p + "self_attn.v_proj.weight",
                                              p + "self_attn.v_proj.bias", kv, h));
      L.qkv = {q + 2 * kv, h, {}, {}, WeightType::kF32, {}};
      for (const Linear* part : {&lq, &lk, &lv}) {
        L.qkv.w.insert(L.qkv.w.end(), part->w.begin(), part->w.end());
        L.qkv.b.insert(L.qkv.b.end(), part->b.begin(), part->b.end());
      }
      LOOM_ASSIGN_OR_RETURN(L.o, linear(p + "self_attn.dense.weight", p + "self_attn.dense.bias",
                                        h, q));
      LOOM_ASSIGN_OR_RETURN(L.up, linear(p + "mlp.fc1.weight", p + "mlp.fc1.bias", f, h));
      LOOM_ASSIGN_OR_RETURN(L.down, linear(p + "mlp.fc2.weight", p + "mlp.fc2.bias", h, f));
    }
    w.layers.push_back(std::move(L));
  }
  LOOM_ASSIGN_OR_RETURN(w.final_norm_w, Load(ckpt, top.final_w, {h}));
  if (!top.final_b.empty()) {
    LOOM_ASSIGN_OR_RETURN(w.final_norm_b, Load(ckpt, top.final_b, {h}));
  }
  w.lm_head = {v, h, {}, {}, WeightType::kF32, {}};
  if (HeadTied(c, &ckpt)) {
    w.lm_head.w = w.embed;
  } else {
    LOOM_ASSIGN_OR_RETURN(w.lm_head.w, Load(ckpt, top.head_w, {v, h}));
  }
  if (!top.head_b.empty()) {
    LOOM_ASSIGN_OR_RETURN(w.lm_head.b, Load(ckpt, top.head_b, {v}));
  }
  return w;
}

namespace {
void AdviseLinearHugePages(const Linear& l) {
  AdviseHugePages(l.w.data(), l.w.size() * sizeof(float));
  AdviseHugePages(l.packed.data(), l.packed.size());
}
}  // namespace

Status QuantizeWeights(PhiWeights& weights, WeightType type) {
  std::vector<Linear*> all;
  for (auto& l : weights.layers)
    for (Linear* x : {&l.qkv, &l.o, &l.up, &l.down}) all.push_back(x);
  all.push_back(&weights.lm_head);
  for (Linear* l : all)
    if (type != WeightType::kF16 && type != WeightType::kF32 && l->in % kQBlock != 0)
      return InvalidArgumentError(StrCat("input width ", l->in, " is not a multiple of 32; ",
                                         WeightTypeName(type), " needs whole blocks"));
  for (Linear* l : all) {
    if (l->type == type) continue;
    if (l->type != WeightType::kF32) {
      // Re-quantizing (e.g. a Q8_0 GGUF to Q4_0) goes through fp32, as llama-quantize does.
      const size_t row = RowBytes(l->type, l->in);
      l->w.resize(static_cast<size_t>(l->out * l->in));
      for (int64_t r = 0; r < l->out; ++r)
        DequantizeRow(l->type, l->packed.data() + r * row, l->in, l->w.data() + r * l->in);
      std::vector<uint8_t>().swap(l->packed);
      l->type = WeightType::kF32;
    }
    if (type != WeightType::kF32) {
      const size_t row = RowBytes(type, l->in);
      l->packed.resize(row * static_cast<size_t>(l->out));
      for (int64_t r = 0; r < l->out; ++r)
        QuantizeRow(type, l->w.data() + r * l->in, l->in, l->packed.data() + r * row);
      l->type = type;
      std::vector<float>().swap(l->w);
    }
  }
  return OkStatus();
}

void AdviseWeightHugePages(const PhiWeights& weights) {
  AdviseLinearHugePages(weights.lm_head);
  for (const auto& l : weights.layers)
    for (const Linear* x : {&l.qkv, &l.o, &l.up, &l.down}) AdviseLinearHugePages(*x);
}

double StreamedWeightBytes(const PhiWeights& weights) {
  auto bytes = [](const Linear& l) {
    return l.type == WeightType::kF32 ? 4.0 * l.w.size() : double(l.packed.size());
  };
  double total = bytes(weights.lm_head);
  for (const auto& l : weights.layers)
    total += bytes(l.qkv) + bytes(l.o) + bytes(l.up) + bytes(l.down);
  return total;
}

}  // namespace loom::phi
