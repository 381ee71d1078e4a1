// phi <-> GGUF with llama.cpp's names; see gguf_phi.h.
#include "loom/phi/gguf_phi.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "loom/base/half.h"
#include "loom/base/strings.h"

namespace loom::phi {

namespace {

std::string ArchKey(Arch a) { return a == Arch::kPhi3 ? "phi3" : "phi2"; }

std::optional<WeightType> PackedTypeOf(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: return WeightType::kF32;
    case GgmlType::kF16: return WeightType::kF16;
    case GgmlType::kQ8_0: return WeightType::kQ8_0;
    case GgmlType::kQ4_0: return WeightType::kQ4_0;
    case GgmlType::kBF16: return std::nullopt;  // widened to F32
  }
  return std::nullopt;
}

GgmlType GgmlTypeOf(WeightType t) {
  switch (t) {
    case WeightType::kF32: return GgmlType::kF32;
    case WeightType::kF16: return GgmlType::kF16;
    case WeightType::kQ8_0: return GgmlType::kQ8_0;
    case WeightType::kQ4_0: return GgmlType::kQ4_0;
  }
  return GgmlType::kF32;
}

// Row r of a tensor as fp32, whatever its type.
void RowToFloat(const GgufTensorInfo& t, const uint8_t* data, int64_t r, float* out) {
  const int64_t n = t.row_len();
  const uint8_t* row = data + GgmlRowBytes(t.type, n) * static_cast<uint64_t>(r);
  if (t.type == GgmlType::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      BFloat16 b;
      std::memcpy(&b.bits, row + 2 * i, 2);
      out[i] = BFloat16ToFloat(b);
    }
    return;
  }
  DequantizeRow(*PackedTypeOf(t.type), row, n, out);
}

std::string DimsString(std::span<const int64_t> dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += StrCat(i ? ", " : "", dims[i]);
  return s;
}

class Reader {
 public:
  Reader(const GgufFile& f) : f_(f) {}

  StatusOr<const GgufTensorInfo*> Tensor(const std::string& name,
                                         std::initializer_list<int64_t> dims) const {
    const GgufTensorInfo* t = f_.FindTensor(name);
    if (!t) return DataLossError(StrCat(f_.source(), ": tensor '", name, "' is missing"));
    if (!std::equal(t->dims.begin(), t->dims.end(), dims.begin(), dims.end()))
      return DataLossError(StrCat(f_.source(), ": tensor '", name, "' has dims [",
                                  DimsString(t->dims), "], expected [",
                                  DimsString(std::vector<int64_t>(dims)), "] (innermost first)"));
    return t;
  }

  // A [rows x n] tensor as fp32 rows.
  StatusOr<std::vector<float>> Floats(const std::string& name, int64_t n, int64_t rows = 1) const {
    const GgufTensorInfo* t;
    if (rows == 1) {
      LOOM_ASSIGN_OR_RETURN(t, Tensor(name, {n}));
    } else {
      LOOM_ASSIGN_OR_RETURN(t, Tensor(name, {n, rows}));
    }
    std::vector<float> out(static_cast<size_t>(n * rows));
    const uint8_t* data = f_.Data(*t).data();
    for (int64_t r = 0; r < rows; ++r) RowToFloat(*t, data, r, out.data() + r * n);
    return out;
  }

  StatusOr<std::vector<float>> OptionalBias(const std::string& name, int64_t n) const {
    if (!f_.FindTensor(name)) return std::vector<float>();
    return Floats(name, n);
  }

  // Stacks the row blocks of `parts` (each [in x outs[i]]) into one Linear [sum(outs) x in],
  // keeping the file's packed type when all parts share it.
  StatusOr<Linear> Matrix(const std::vector<std::string>& parts, const std::vector<int64_t>& outs,
                          int64_t in) const {
    std::vector<const GgufTensorInfo*> ts;
    for (size_t i = 0; i < parts.size(); ++i) {
      LOOM_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Tensor(parts[i], {in, outs[i]}));
      ts.push_back(t);
    }
    Linear l;
    l.in = in;
    for (int64_t o : outs) l.out += o;
    // Parts of one packed type are stacked as they are; anything else becomes fp32 rows.
    bool stack = ts[0]->type != GgmlType::kF32 && ts[0]->type != GgmlType::kBF16;
    for (const GgufTensorInfo* t : ts) stack = stack && t->type == ts[0]->type;
    if (stack) {
      l.type = *PackedTypeOf(ts[0]->type);
      for (const GgufTensorInfo* t : ts) {
        const auto data = f_.Data(*t);
        l.packed.insert(l.packed.end(), data.begin(), data.end());
      }
      return l;
    }
    l.w.resize(static_cast<size_t>(l.out * in));
    int64_t row0 = 0;
    for (const GgufTensorInfo* t : ts) {
      const uint8_t* data = f_.Data(*t).data();
      for (int64_t r = 0; r < t->rows(); ++r) RowToFloat(*t, data, r, l.w.data() + (row0 + r) * in);
      row0 += t->rows();
    }
    return l;
  }

 private:
  const GgufFile& f_;
};

}  // namespace

bool IsGgufFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[4] = {};
  const bool ok = std::fread(magic, 1, 4, f) == 4 && std::memcmp(magic, "GGUF", 4) == 0;
  std::fclose(f);
  return ok;
}

StatusOr<PhiConfig> PhiConfigFromGguf(const GgufFile& f) {
  LOOM_ASSIGN_OR_RETURN(std::string arch, f.GetString("general.architecture"));
  PhiConfig c;
  if (arch == "phi2") {
    c.arch = Arch::kPhi;
  } else if (arch == "phi3") {
    c.arch = Arch::kPhi3;
  } else {
    return InvalidArgumentError(StrCat(f.source(), ": architecture '", arch,
                                       "' is not phi2 or phi3"));
  }
  const std::string k = arch + ".";
  LOOM_ASSIGN_OR_RETURN(c.hidden, f.GetInt(k + "embedding_length"));
  LOOM_ASSIGN_OR_RETURN(c.intermediate, f.GetInt(k + "feed_forward_length"));
  LOOM_ASSIGN_OR_RETURN(c.layers, f.GetInt(k + "block_count"));
  LOOM_ASSIGN_OR_RETURN(c.heads, f.GetInt(k + "attention.head_count"));
  LOOM_ASSIGN_OR_RETURN(c.kv_heads, f.GetInt(k + "attention.head_count_kv", c.heads));
  LOOM_ASSIGN_OR_RETURN(c.max_position, f.GetInt(k + "context_length"));
  LOOM_ASSIGN_OR_RETURN(c.rope_theta, f.GetFloat(k + "rope.freq_base", 10000.0));
  if (c.heads <= 0 || c.hidden % c.heads != 0)
    return DataLossError(StrCat(f.source(), ": ", c.hidden, " is not a multiple of ", c.heads,
                                " heads"));
  c.head_dim = c.hidden / c.heads;
  LOOM_ASSIGN_OR_RETURN(c.rotary_dim, f.GetInt(k + "rope.dimension_count", c.head_dim));
  if (c.arch == Arch::kPhi) {
    LOOM_ASSIGN_OR_RETURN(c.norm_eps, f.GetFloat(k + "attention.layer_norm_epsilon"));
  } else {
    LOOM_ASSIGN_OR_RETURN(c.norm_eps, f.GetFloat(k + "attention.layer_norm_rms_epsilon"));
    LOOM_ASSIGN_OR_RETURN(int64_t window, f.GetInt(k + "attention.sliding_window", 0));
    if (window > 0) c.sliding_window = window;  // 0 marks full attention (phi-4)
  }
  const GgufTensorInfo* embd = f.FindTensor("token_embd.weight");
  if (!embd || embd->dims.size() != 2)
    return DataLossError(StrCat(f.source(), ": tensor 'token_embd.weight' [hidden, vocab] is missing"));
  c.vocab_size = embd->dims[1];
  c.tie_embeddings = f.FindTensor("output.weight") == nullptr;
  LOOM_ASSIGN_OR_RETURN(int64_t eos, f.GetInt("tokenizer.ggml.eos_token_id", -1));
  if (eos >= 0) c.eos_ids = {eos};
  LOOM_ASSIGN_OR_RETURN(int64_t bos, f.GetInt("tokenizer.ggml.bos_token_id", -1));
  if (bos >= 0) c.bos_id = bos;
  if (f.FindTensor("rope_factors_long.weight") || f.FindTensor("rope_factors_short.weight")) {
    if (c.arch != Arch::kPhi3)
      return DataLossError(StrCat(f.source(), ": rope factors in a phi2 file"));
    LongRope lr;
    LOOM_ASSIGN_OR_RETURN(lr.original_max_position,
                          f.GetInt(k + "rope.scaling.original_context_length"));
    if (lr.original_max_position <= 0)
      return DataLossError(StrCat(f.source(), ": original context length must be > 0"));
    const double s = double(c.max_position) / double(lr.original_max_position);
    const double computed = s <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(s) /
                                                               std::log(double(lr.original_max_position)));
    LOOM_ASSIGN_OR_RETURN(double af, f.GetFloat(k + "rope.scaling.attn_factor", computed));
    lr.attention_factor = static_cast<float>(af);
    c.longrope = std::move(lr);
  }
  LOOM_RETURN_IF_ERROR(ValidatePhiConfig(c, f.source()));
  if (c.longrope) {
    Reader r(f);
    LOOM_ASSIGN_OR_RETURN(c.longrope->long_factor,
                          r.Floats("rope_factors_long.weight", c.rotary_dim / 2));
    LOOM_ASSIGN_OR_RETURN(c.longrope->short_factor,
                          r.Floats("rope_factors_short.weight", c.rotary_dim / 2));
  }
  return c;
}

StatusOr<PhiWeights> PhiWeightsFromGguf(const GgufFile& f, const PhiConfig& c) {
  Reader r(f);
  const int64_t h = c.hidden, v = c.vocab_size, ff = c.intermediate;
  const int64_t q_rows = c.heads * c.head_dim, kv_rows = c.kv_heads * c.head_dim;
  PhiWeights w;
  LOOM_ASSIGN_OR_RETURN(w.embed, r.Floats("token_embd.weight", h, v));
  LOOM_ASSIGN_OR_RETURN(w.final_norm_w, r.Floats("output_norm.weight", h));
  if (c.arch == Arch::kPhi) {
    LOOM_ASSIGN_OR_RETURN(w.final_norm_b, r.Floats("output_norm.bias", h));
  }
  if (c.tie_embeddings) {
    w.lm_head = {v, h, w.embed, {}, WeightType::kF32, {}};
  } else {
    LOOM_ASSIGN_OR_RETURN(w.lm_head, r.Matrix({"output.weight"}, {v}, h));
    LOOM_ASSIGN_OR_RETURN(w.lm_head.b, r.OptionalBias("output.bias", v));
  }
  const bool phi = c.arch == Arch::kPhi;
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = StrCat("blk.", l, ".");
    LayerWeights lw;
    LOOM_ASSIGN_OR_RETURN(lw.norm1_w, r.Floats(p + "attn_norm.weight", h));
    if (phi) {
      LOOM_ASSIGN_OR_RETURN(lw.norm1_b, r.Floats(p + "attn_norm.bias", h));
    } else {
      LOOM_ASSIGN_OR_RETURN(lw.norm2_w, r.Floats(p + "ffn_norm.weight", h));
    }
    if (f.FindTensor(p + "attn_qkv.weight")) {
      LOOM_ASSIGN_OR_RETURN(lw.qkv, r.Matrix({p + "attn_qkv.weight"}, {q_rows + 2 * kv_rows}, h));
      LOOM_ASSIGN_OR_RETURN(lw.qkv.b, r.OptionalBias(p + "attn_qkv.bias", q_rows + 2 * kv_rows));
    } else {
      LOOM_ASSIGN_OR_RETURN(lw.qkv, r.Matrix({p + "attn_q.weight", p + "attn_k.weight",
                                              p + "attn_v.weight"},
                                             {q_rows, kv_rows, kv_rows}, h));
      std::vector<float> parts[3];
      LOOM_ASSIGN_OR_RETURN(parts[0], r.OptionalBias(p + "attn_q.bias", q_rows));
      LOOM_ASSIGN_OR_RETURN(parts[1], r.OptionalBias(p + "attn_k.bias", kv_rows));
      LOOM_ASSIGN_OR_RETURN(parts[2], r.OptionalBias(p + "attn_v.bias", kv_rows));
      if (parts[0].empty() != parts[1].empty() || parts[0].empty() != parts[2].empty())
        return DataLossError(StrCat(f.source(), ": ", p, "attn_q/k/v biases are not all present"));
      for (const auto& b : parts) lw.qkv.b.insert(lw.qkv.b.end(), b.begin(), b.end());
    }
    LOOM_ASSIGN_OR_RETURN(lw.o, r.Matrix({p + "attn_output.weight"}, {h}, q_rows));
    LOOM_ASSIGN_OR_RETURN(lw.o.b, r.OptionalBias(p + "attn_output.bias", h));
    const int64_t up_rows = phi ? ff : 2 * ff;  // phi3 stores [gate | up]
    LOOM_ASSIGN_OR_RETURN(lw.up, r.Matrix({p + "ffn_up.weight"}, {up_rows}, h));
    LOOM_ASSIGN_OR_RETURN(lw.up.b, r.OptionalBias(p + "ffn_up.bias", up_rows));
    LOOM_ASSIGN_OR_RETURN(lw.down, r.Matrix({p + "ffn_down.weight"}, {h}, ff));
    LOOM_ASSIGN_OR_RETURN(lw.down.b, r.OptionalBias(p + "ffn_down.bias", h));
    w.layers.push_back(std::move(lw));
  }
  return w;
}

namespace {

std::span<const uint8_t> FloatBytes(const std::vector<float>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)};
}

// Rows [row0, row0 + rows) of a Linear in its own type (a view, no copy).
std::span<const uint8_t> RowBlock(const Linear& l, int64_t row0, int64_t rows) {
  if (l.type == WeightType::kF32) {
    const float* first = l.w.data() + row0 * l.in;
    return {reinterpret_cast<const uint8_t*>(first), static_cast<size_t>(rows * l.in) * 4};
  }
  const size_t rb = RowBytes(l.type, l.in);
  return std::span<const uint8_t>(l.packed).subspan(static_cast<size_t>(row0) * rb,
                                                     static_cast<size_t>(rows) * rb);
}

Status AddMatrix(GgufWriter& out, const std::string& name, const Linear& l, int64_t row0,
                 int64_t rows) {
  return out.AddTensor(name, GgmlTypeOf(l.type), {l.in, rows}, RowBlock(l, row0, rows));
}

Status AddVector(GgufWriter& out, const std::string& name, const std::vector<float>& v) {
  return out.AddTensor(name, GgmlType::kF32, {static_cast<int64_t>(v.size())}, FloatBytes(v));
}

// llama.cpp's general.file_type for the type most matrices have.
uint32_t FileType(WeightType t) {
  switch (t) {
    case WeightType::kF32: return 0;
    case WeightType::kF16: return 1;
    case WeightType::kQ4_0: return 2;
    case WeightType::kQ8_0: return 7;
  }
  return 0;
}

Status AddVocab(GgufWriter& out, const GgufFile& vocab, int64_t vocab_size) {
  for (const auto& [key, value] : vocab.metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    const bool per_token = key == "tokenizer.ggml.tokens" || key == "tokenizer.ggml.scores" ||
                           key == "tokenizer.ggml.token_type";
    if (!per_token || value.type != GgufValueType::kArray) {
      LOOM_RETURN_IF_ERROR(out.AddValue(key, value).WithContext(vocab.source()));
      continue;
    }
    // The model's vocabulary is padded past the tokenizer's (phi-2 51200 vs 50295): pad as
    // llama.cpp's converter does, with [PAD<i>] tokens of type UNUSED (5) and score -10000.
    GgufValue padded = value;
    if (key == "tokenizer.ggml.tokens") {
      padded.strings.resize(std::min<size_t>(padded.strings.size(), vocab_size));
      for (int64_t i = static_cast<int64_t>(padded.strings.size()); i < vocab_size; ++i)
        padded.strings.push_back(StrCat("[PAD", i, "]"));
    } else {
      padded.numbers.resize(static_cast<size_t>(vocab_size),
                            key == "tokenizer.ggml.scores" ? -10000.0 : 5.0);
    }
    padded.array_length = std::max(padded.strings.size(), padded.numbers.size());
    LOOM_RETURN_IF_ERROR(out.AddValue(key, padded).WithContext(vocab.source()));
  }
  return OkStatus();
}

}  // namespace

Status WritePhiGguf(const std::string& path, const PhiConfig& c, const PhiWeights& w,
                    const PhiGgufOptions& o) {
  const std::string arch = ArchKey(c.arch), k = arch + ".";
  const bool phi = c.arch == Arch::kPhi;
  GgufWriter out;
  out.AddString("general.architecture", arch);
  out.AddString("general.name", o.name.empty() ? arch : o.name);
  out.AddU32("general.file_type", FileType(w.layers.empty() ? w.lm_head.type : w.layers[0].qkv.type));
  out.AddU32("general.quantization_version", 2);
  out.AddU32(k + "context_length", static_cast<uint32_t>(c.max_position));
  out.AddU32(k + "embedding_length", static_cast<uint32_t>(c.hidden));
  out.AddU32(k + "feed_forward_length", static_cast<uint32_t>(c.intermediate));
  out.AddU32(k + "block_count", static_cast<uint32_t>(c.layers));
  out.AddU32(k + "attention.head_count", static_cast<uint32_t>(c.heads));
  out.AddU32(k + "attention.head_count_kv", static_cast<uint32_t>(c.kv_heads));
  out.AddU32(k + "rope.dimension_count", static_cast<uint32_t>(c.rotary_dim));
  out.AddF32(k + "rope.freq_base", static_cast<float>(c.rope_theta));
  if (phi) {
    out.AddF32(k + "attention.layer_norm_epsilon", static_cast<float>(c.norm_eps));
  } else {
    out.AddF32(k + "attention.layer_norm_rms_epsilon", static_cast<float>(c.norm_eps));
    out.AddU32(k + "attention.sliding_window",
               static_cast<uint32_t>(c.sliding_window.value_or(0)));
    out.AddU32(k + "rope.scaling.original_context_length",
               static_cast<uint32_t>(c.longrope ? c.longrope->original_max_position : c.max_position));
    if (c.longrope) out.AddF32(k + "rope.scaling.attn_factor", c.longrope->attention_factor);
  }
  if (o.vocab) {
    LOOM_RETURN_IF_ERROR(AddVocab(out, *o.vocab, c.vocab_size));
  } else {
    if (!c.eos_ids.empty()) out.AddU32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(c.eos_ids[0]));
    if (c.bos_id) out.AddU32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*c.bos_id));
  }
  if (phi) out.AddBool("tokenizer.ggml.add_bos_token", false);

  LOOM_RETURN_IF_ERROR(out.AddTensor("token_embd.weight", GgmlType::kF32, {c.hidden, c.vocab_size},
                                     FloatBytes(w.embed)));
  LOOM_RETURN_IF_ERROR(AddVector(out, "output_norm.weight", w.final_norm_w));
  if (!w.final_norm_b.empty()) LOOM_RETURN_IF_ERROR(AddVector(out, "output_norm.bias", w.final_norm_b));
  if (!c.tie_embeddings) {
    LOOM_RETURN_IF_ERROR(AddMatrix(out, "output.weight", w.lm_head, 0, w.lm_head.out));
    if (!w.lm_head.b.empty()) LOOM_RETURN_IF_ERROR(AddVector(out, "output.bias", w.lm_head.b));
  }
  if (c.longrope) {
    LOOM_RETURN_IF_ERROR(AddVector(out, "rope_factors_long.weight", c.longrope->long_factor));
    LOOM_RETURN_IF_ERROR(AddVector(out, "rope_factors_short.weight", c.longrope->short_factor));
  }
  const int64_t q_rows = c.heads * c.head_dim, kv_rows = c.kv_heads * c.head_dim;
  for (int64_t l = 0; l < c.layers; ++l) {
    const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    const std::string p = StrCat("blk.", l, ".");
    LOOM_RETURN_IF_ERROR(AddVector(out, p + "attn_norm.weight", lw.norm1_w));
    if (!lw.norm1_b.empty()) LOOM_RETURN_IF_ERROR(AddVector(out, p + "attn_norm.bias", lw.norm1_b));
    if (!lw.norm2_w.empty()) LOOM_RETURN_IF_ERROR(AddVector(out, p + "ffn_norm.weight", lw.norm2_w));
    if (phi) {
      // phi2 files keep q, k and v apart (as llama.cpp's converter writes them).
      const std::pair<const char*, int64_t> parts[] = {{"q", 0}, {"k", q_rows}, {"v", q_rows + kv_rows}};
      for (const auto& [name, row0] : parts) {
        const int64_t rows = row0 == 0 ? q_rows : kv_rows;
        LOOM_RETURN_IF_ERROR(AddMatrix(out, StrCat(p, "attn_", name, ".weight"), lw.qkv, row0, rows));
        if (!lw.qkv.b.empty())
          LOOM_RETURN_IF_ERROR(out.AddTensor(
              StrCat(p, "attn_", name, ".bias"), GgmlType::kF32, {rows},
              FloatBytes(lw.qkv.b).subspan(static_cast<size_t>(row0) * 4,
                                           static_cast<size_t>(rows) * 4)));
      }
    } else {
      LOOM_RETURN_IF_ERROR(AddMatrix(out, p + "attn_qkv.weight", lw.qkv, 0, lw.qkv.out));
      if (!lw.qkv.b.empty()) LOOM_RETURN_IF_ERROR(AddVector(out, p + "attn_qkv.bias", lw.qkv.b));
    }
    const std::pair<const char*, const Linear*> mats[] = {
        {"attn_output", &lw.o}, {"ffn_up", &lw.up}, {"ffn_down", &lw.down}};
    for (const auto& [name, lin] : mats) {
      LOOM_RETURN_IF_ERROR(AddMatrix(out, StrCat(p, name, ".weight"), *lin, 0, lin->out));
      if (!lin->b.empty()) LOOM_RETURN_IF_ERROR(AddVector(out, StrCat(p, name, ".bias"), lin->b));
    }
  }
  return out.Write(path);
}

}  // namespace loom::phi
