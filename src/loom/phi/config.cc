// Parsing of phi config.json files; see config.h.
#include "loom/phi/config.h"

#include <cmath>

#include "loom/base/strings.h"

namespace loom::phi {
namespace {

// Reads an int that may be absent or null.
StatusOr<int64_t> IntOr(const JsonValue& doc, std::string_view key, int64_t fallback) {
  auto v = doc.Find(key);
  if (!v || v->IsNull()) return fallback;
  return v->AsInt();
}

StatusOr<std::vector<float>> FloatList(const JsonValue& obj, std::string_view key) {
  LOOM_ASSIGN_OR_RETURN(JsonValue list, obj.Get(key));
  LOOM_ASSIGN_OR_RETURN(auto elems, list.Elements());
  std::vector<float> out;
  for (const auto& e : elems) {
    LOOM_ASSIGN_OR_RETURN(double d, e.AsDouble());
    out.push_back(static_cast<float>(d));
  }
  return out;
}

StatusOr<std::vector<int64_t>> IdList(const JsonValue& doc, std::string_view key) {
  std::vector<int64_t> ids;
  auto v = doc.Find(key);
  if (!v || v->IsNull()) return ids;
  if (v->IsArray()) {
    LOOM_ASSIGN_OR_RETURN(auto elems, v->Elements());
    for (const auto& e : elems) {
      LOOM_ASSIGN_OR_RETURN(int64_t id, e.AsInt());
      ids.push_back(id);
    }
  } else {
    LOOM_ASSIGN_OR_RETURN(int64_t id, v->AsInt());
    ids.push_back(id);
  }
  return ids;
}

// Rope settings live at the top level before transformers v5 and in rope_parameters after.
struct RopeKeys {
  std::optional<JsonValue> scaling;  // the object holding type/factors, if any
  double theta;
  double partial;
};

StatusOr<RopeKeys> ReadRope(const JsonValue& doc, double default_partial) {
  RopeKeys r;
  LOOM_ASSIGN_OR_RETURN(r.theta, doc.GetDouble("rope_theta", 10000.0));
  LOOM_ASSIGN_OR_RETURN(r.partial, doc.GetDouble("partial_rotary_factor", default_partial));
  auto scaling = doc.Find("rope_scaling");
  if (scaling && !scaling->IsNull()) r.scaling = *scaling;
  if (auto params = doc.Find("rope_parameters"); params && params->IsObject()) {
    LOOM_ASSIGN_OR_RETURN(r.theta, params->GetDouble("rope_theta", r.theta));
    LOOM_ASSIGN_OR_RETURN(r.partial, params->GetDouble("partial_rotary_factor", r.partial));
    LOOM_ASSIGN_OR_RETURN(std::string type, params->GetString("rope_type", "default"));
    if (type != "default") r.scaling = *params;
  }
  return r;
}

Status ParseLongRope(const JsonValue& doc, const RopeKeys& rope, PhiConfig& c) {
  const JsonValue& s = *rope.scaling;
  std::string type;
  if (auto t = s.Find("rope_type"); t && t->IsString()) type = *t->AsString();
  else if (auto t2 = s.Find("type"); t2 && t2->IsString()) type = *t2->AsString();
  if (type != "longrope" && type != "su")
    return InvalidArgumentError(StrCat(s.source(), ": rope scaling type '", type,
                                       "' is not supported (only longrope/su)"));
  LongRope lr;
  LOOM_ASSIGN_OR_RETURN(lr.short_factor, FloatList(s, "short_factor"));
  LOOM_ASSIGN_OR_RETURN(lr.long_factor, FloatList(s, "long_factor"));
  const size_t half = static_cast<size_t>(c.rotary_dim / 2);
  if (lr.short_factor.size() != half || lr.long_factor.size() != half)
    return InvalidArgumentError(StrCat(s.source(), ": LongRoPE factor lists have ",
                                       lr.short_factor.size(), " and ", lr.long_factor.size(),
                                       " entries; rotary_dim/2 = ", half));
  LOOM_ASSIGN_OR_RETURN(int64_t orig, IntOr(doc, "original_max_position_embeddings", 4096));
  LOOM_ASSIGN_OR_RETURN(orig, IntOr(s, "original_max_position_embeddings", orig));
  if (orig <= 0) return InvalidArgumentError("original_max_position_embeddings must be > 0");
  lr.original_max_position = orig;
  // HF: factor = max_position / original; attention factor sqrt(1 + ln f / ln orig) if f > 1.
  auto af = s.Find("attention_factor");
  if (af && !af->IsNull()) {
    LOOM_ASSIGN_OR_RETURN(double a, af->AsDouble());
    lr.attention_factor = static_cast<float>(a);
  } else {
    const double f = static_cast<double>(c.max_position) / static_cast<double>(orig);
    lr.attention_factor =
        f <= 1.0 ? 1.0f
                 : static_cast<float>(std::sqrt(1.0 + std::log(f) / std::log(double(orig))));
  }
  c.longrope = std::move(lr);
  return OkStatus();
}

StatusOr<PhiConfig> ParsePhi(const JsonValue& doc, bool legacy) {
  PhiConfig c;
  c.arch = Arch::kPhi;
  c.legacy_names = legacy;
  LOOM_ASSIGN_OR_RETURN(c.vocab_size, doc.GetInt("vocab_size"));
  if (legacy) {
    LOOM_ASSIGN_OR_RETURN(c.hidden, doc.GetInt("n_embd"));
    LOOM_ASSIGN_OR_RETURN(c.layers, doc.GetInt("n_layer"));
    LOOM_ASSIGN_OR_RETURN(c.heads, doc.GetInt("n_head"));
    LOOM_ASSIGN_OR_RETURN(c.kv_heads, IntOr(doc, "n_head_kv", c.heads));
    LOOM_ASSIGN_OR_RETURN(c.intermediate, IntOr(doc, "n_inner", 4 * c.hidden));
    LOOM_ASSIGN_OR_RETURN(c.max_position, IntOr(doc, "n_positions", 2048));
    LOOM_ASSIGN_OR_RETURN(c.norm_eps, doc.GetDouble("layer_norm_epsilon", 1e-5));
    if (c.heads <= 0) return InvalidArgumentError(StrCat(doc.source(), ": n_head must be > 0"));
    c.head_dim = c.hidden / c.heads;
    LOOM_ASSIGN_OR_RETURN(c.rotary_dim, IntOr(doc, "rotary_dim", c.head_dim / 2));
    LOOM_ASSIGN_OR_RETURN(c.rope_theta, doc.GetDouble("rope_theta", 10000.0));
  } else {
    LOOM_ASSIGN_OR_RETURN(c.hidden, doc.GetInt("hidden_size"));
    LOOM_ASSIGN_OR_RETURN(c.intermediate, doc.GetInt("intermediate_size"));
    LOOM_ASSIGN_OR_RETURN(c.layers, doc.GetInt("num_hidden_layers"));
    LOOM_ASSIGN_OR_RETURN(c.heads, doc.GetInt("num_attention_heads"));
    LOOM_ASSIGN_OR_RETURN(c.kv_heads, IntOr(doc, "num_key_value_heads", c.heads));
    LOOM_ASSIGN_OR_RETURN(c.max_position, IntOr(doc, "max_position_embeddings", 2048));
    LOOM_ASSIGN_OR_RETURN(c.norm_eps, doc.GetDouble("layer_norm_eps", 1e-5));
    if (c.heads <= 0) return InvalidArgumentError(StrCat(doc.source(), ": heads must be > 0"));
    c.head_dim = c.hidden / c.heads;
    LOOM_ASSIGN_OR_RETURN(RopeKeys rope, ReadRope(doc, 0.5));
    c.rope_theta = rope.theta;
    c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * rope.partial);
    if (rope.scaling)
      return InvalidArgumentError(StrCat(doc.source(), ": rope scaling for phi is not supported"));
    LOOM_ASSIGN_OR_RETURN(bool qk_ln, doc.GetBool("qk_layernorm", false));
    if (qk_ln) return InvalidArgumentError(StrCat(doc.source(), ": qk_layernorm is not supported"));
  }
  LOOM_ASSIGN_OR_RETURN(c.tie_embeddings, doc.GetBool("tie_word_embeddings", false));
  return c;
}

StatusOr<PhiConfig> ParsePhi3(const JsonValue& doc) {
  PhiConfig c;
  c.arch = Arch::kPhi3;
  LOOM_ASSIGN_OR_RETURN(c.vocab_size, doc.GetInt("vocab_size"));
  LOOM_ASSIGN_OR_RETURN(c.hidden, doc.GetInt("hidden_size"));
  LOOM_ASSIGN_OR_RETURN(c.intermediate, doc.GetInt("intermediate_size"));
  LOOM_ASSIGN_OR_RETURN(c.layers, doc.GetInt("num_hidden_layers"));
  LOOM_ASSIGN_OR_RETURN(c.heads, doc.GetInt("num_attention_heads"));
  LOOM_ASSIGN_OR_RETURN(c.kv_heads, IntOr(doc, "num_key_value_heads", c.heads));
  LOOM_ASSIGN_OR_RETURN(c.max_position, IntOr(doc, "max_position_embeddings", 4096));
  LOOM_ASSIGN_OR_RETURN(c.norm_eps, doc.GetDouble("rms_norm_eps", 1e-5));
  if (c.heads <= 0) return InvalidArgumentError(StrCat(doc.source(), ": heads must be > 0"));
  LOOM_ASSIGN_OR_RETURN(c.head_dim, IntOr(doc, "head_dim", c.hidden / c.heads));
  LOOM_ASSIGN_OR_RETURN(RopeKeys rope, ReadRope(doc, 1.0));
  c.rope_theta = rope.theta;
  c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * rope.partial);
  if (rope.scaling) LOOM_RETURN_IF_ERROR(ParseLongRope(doc, rope, c));
  LOOM_ASSIGN_OR_RETURN(int64_t window, IntOr(doc, "sliding_window", 0));
  if (window > 0) c.sliding_window = window;
  LOOM_ASSIGN_OR_RETURN(c.tie_embeddings, doc.GetBool("tie_word_embeddings", false));
  return c;
}

}  // namespace

Status ValidatePhiConfig(const PhiConfig& c, std::string_view source) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError(StrCat(source, ": ", why));
  };
  if (c.vocab_size <= 0 || c.hidden <= 0 || c.intermediate <= 0 || c.layers <= 0)
    return bad("vocab_size, hidden, intermediate and layer counts must be positive");
  if (c.hidden > (1 << 20) || c.intermediate > (1 << 22) || c.layers > 4096 ||
      c.vocab_size > (1 << 24) || c.heads > 4096)
    return bad("sizes are implausibly large");
  if (c.heads <= 0 || c.kv_heads <= 0 || c.heads % c.kv_heads != 0)
    return bad(StrCat("heads ", c.heads, " is not a multiple of kv heads ", c.kv_heads));
  if (c.arch == Arch::kPhi && c.head_dim * c.heads != c.hidden)
    return bad(StrCat("hidden ", c.hidden, " is not heads x head_dim"));
  if (c.head_dim <= 0 || c.rotary_dim < 0 || c.rotary_dim > c.head_dim || c.rotary_dim % 2)
    return bad(StrCat("rotary dim ", c.rotary_dim, " must be even and <= head_dim ", c.head_dim));
  if (!(c.rope_theta > 0) || !(c.norm_eps > 0)) return bad("rope_theta and eps must be > 0");
  if (c.max_position <= 0) return bad("max_position_embeddings must be > 0");
  return OkStatus();
}

StatusOr<PhiConfig> ParsePhiConfig(const JsonValue& doc) {
  if (!doc.IsObject()) return InvalidArgumentError(StrCat(doc.source(), ": not a JSON object"));
  LOOM_ASSIGN_OR_RETURN(std::string type, doc.GetString("model_type", ""));
  StatusOr<PhiConfig> parsed = InvalidArgumentError("");
  if (type == "phi3") {
    parsed = ParsePhi3(doc);
  } else if (type == "phi") {
    parsed = ParsePhi(doc, /*legacy=*/false);
  } else if (type == "phi-msft" || type == "mixformer-sequential" || doc.Has("n_embd")) {
    parsed = ParsePhi(doc, /*legacy=*/true);
  } else {
    return InvalidArgumentError(StrCat(doc.source(), ": model_type '", type,
                                       "' is not phi, phi3 or phi-msft"));
  }
  if (!parsed.ok()) return parsed.status();
  PhiConfig c = std::move(*parsed);
  LOOM_RETURN_IF_ERROR(ValidatePhiConfig(c, doc.source()));
  LOOM_ASSIGN_OR_RETURN(c.eos_ids, IdList(doc, "eos_token_id"));
  LOOM_ASSIGN_OR_RETURN(auto bos, IdList(doc, "bos_token_id"));
  if (!bos.empty()) c.bos_id = bos.front();
  return c;
}

StatusOr<PhiConfig> ReadPhiConfig(const std::string& model_dir) {
  LOOM_ASSIGN_OR_RETURN(JsonValue doc, ReadJsonFile(model_dir + "/config.json"));
  return ParsePhiConfig(doc);
}

std::string PhiConfig::Describe() const {
  std::string s = StrCat(arch == Arch::kPhi ? (legacy_names ? "phi (MixFormer names)" : "phi")
                                            : "phi3",
                         ": layers ", layers, ", hidden ", hidden, ", heads ", heads, "/",
                         kv_heads, ", head_dim ", head_dim, ", rotary ", rotary_dim, ", ffn ",
                         intermediate, ", vocab ", vocab_size, ", theta ", rope_theta);
  if (longrope)
    s += StrCat(", LongRoPE (orig ", longrope->original_max_position, ", attn factor ",
                longrope->attention_factor, ")");
  if (sliding_window) s += StrCat(", window ", *sliding_window);
  if (tie_embeddings) s += ", tied head";
  return s;
}

}  // namespace loom::phi
