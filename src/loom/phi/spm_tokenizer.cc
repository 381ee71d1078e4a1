// SentencePiece tokenizer (Phi-3) over libsentencepiece; see tokenizer.h.
#include <algorithm>
#include <filesystem>

#include "loom/base/json.h"
#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/phi/gguf.h"
#include "loom/phi/gguf_phi.h"
#include "loom/phi/gguf_tokenizer.h"
#include "loom/phi/tokenizer.h"

#if LOOM_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace loom::phi {

#if LOOM_HAVE_SENTENCEPIECE
namespace {

class SpmTokenizer final : public Tokenizer {
 public:
  Status Init(const std::string& model_path, const std::string& config_path) {
    const auto st = sp_.Load(model_path);
    if (!st.ok()) return DataLossError(StrCat(model_path, ": ", st.ToString()));
    base_ = sp_.GetPieceSize();
    // HF encodes unk + text and drops unk's pieces to avoid the dummy prefix.
    unk_len_ = sp_.EncodeAsIds(sp_.IdToPiece(sp_.unk_id())).size();
    std::error_code ec;
    if (!config_path.empty() && std::filesystem::exists(config_path, ec)) {
      LOOM_ASSIGN_OR_RETURN(JsonValue doc, ReadJsonFile(config_path));
      if (auto dec = doc.Find("added_tokens_decoder"); dec && dec->IsObject()) {
        LOOM_ASSIGN_OR_RETURN(auto members, dec->Members());
        for (const auto& [id_text, t] : members) {
          AddedToken a;
          LOOM_ASSIGN_OR_RETURN(int64_t id, ParseInt(id_text, t.path()));
          if (id < 0 || id >= (1 << 24)) return InvalidArgumentError(StrCat(t.path(), ": bad id"));
          a.id = static_cast<int32_t>(id);
          LOOM_ASSIGN_OR_RETURN(a.content, t.GetString("content"));
          LOOM_ASSIGN_OR_RETURN(a.special, t.GetBool("special", false));
          LOOM_ASSIGN_OR_RETURN(a.lstrip, t.GetBool("lstrip", false));
          LOOM_ASSIGN_OR_RETURN(a.rstrip, t.GetBool("rstrip", false));
          if (a.content.empty()) return InvalidArgumentError(StrCat(t.path(), ": empty token"));
          // Tokens already in the SentencePiece vocabulary (<s>, <unk>) are not split out.
          if (id < base_ && sp_.IdToPiece(static_cast<int>(id)) == a.content) continue;
          added_.push_back(a);
        }
      }
    }
    std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& a, const AddedToken& b) {
      return a.content.size() > b.content.size();
    });
    return OkStatus();
  }

  std::vector<int32_t> Encode(std::string_view text) const override {
    std::vector<int32_t> out;
    bool first = true;
    for (const TextSegment& seg : SplitAddedTokens(text, added_)) {
      if (seg.is_added) {
        out.push_back(seg.id);
      } else if (first) {
        for (int id : sp_.EncodeAsIds(std::string(seg.text))) out.push_back(id);
      } else {
        const std::string unk = sp_.IdToPiece(sp_.unk_id());
        const auto ids = sp_.EncodeAsIds(unk + std::string(seg.text));
        for (size_t i = std::min(unk_len_, ids.size()); i < ids.size(); ++i) out.push_back(ids[i]);
      }
      first = false;
    }
    return out;
  }

  std::string Decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::string out;
    std::vector<int> run;
    auto flush = [&] {
      if (!run.empty()) out += sp_.DecodeIds(run);
      run.clear();
    };
    for (int32_t id : ids) {
      if (id >= 0 && id < base_) {
        if (!(skip_special && sp_.IsControl(id))) run.push_back(id);
        continue;
      }
      flush();
      for (const auto& a : added_)
        if (a.id == id && !(skip_special && a.special)) out += a.content;
    }
    flush();
    return out;
  }

  std::optional<int32_t> TokenId(std::string_view token) const override {
    for (const auto& a : added_)
      if (a.content == token) return a.id;
    const int id = sp_.PieceToId(std::string(token));
    if (id == sp_.unk_id() && token != sp_.IdToPiece(sp_.unk_id())) return std::nullopt;
    return id;
  }

  int64_t vocab_size() const override {
    int64_t n = base_;
    for (const auto& a : added_) n = std::max<int64_t>(n, a.id + 1);
    return n;
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  int base_ = 0;
  size_t unk_len_ = 0;
  std::vector<AddedToken> added_;
};

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePiece(const std::string& model_path,
                                                       const std::string& config_path) {
  auto t = std::make_unique<SpmTokenizer>();
  LOOM_RETURN_IF_ERROR(t->Init(model_path, config_path));
  return std::unique_ptr<Tokenizer>(std::move(t));
}
#else
StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePiece(const std::string& model_path,
                                                       const std::string&) {
  return UnavailableError(StrCat(model_path, ": loom was built without libsentencepiece "
                                 "(scripts/install-deps.sh installs libsentencepiece-dev)"));
}
#endif

StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir) {
  std::error_code ec;
  if (IsGgufFile(model_dir)) {
    LOOM_ASSIGN_OR_RETURN(auto file, GgufFile::Open(model_dir));
    std::string dir = std::filesystem::path(model_dir).parent_path().string();
    if (dir.empty()) dir = ".";
    // No embedded vocabulary (as loom's quantize writes without --vocab): the files beside it.
    if (!GgufHasTokenizer(*file)) return LoadTokenizer(dir);
    auto embedded = TokenizerFromGguf(*file);
    if (embedded.ok()) return embedded;
    // One loom cannot run (another pre-tokenizer): tokenizer files beside the file, if any.
    if (std::filesystem::exists(dir + "/tokenizer.json", ec) ||
        std::filesystem::exists(dir + "/tokenizer.model", ec)) {
      LOOM_LOG(kWarning) << embedded.status() << "; using the tokenizer files in " << dir;
      return LoadTokenizer(dir);
    }
    return embedded.status();
  }
  const std::string json = model_dir + "/tokenizer.json";
  const std::string model = model_dir + "/tokenizer.model";
  Status bpe_error = NotFoundError(StrCat(model_dir, ": no tokenizer.json or tokenizer.model"));
  if (std::filesystem::exists(json, ec)) {
    auto bpe = BpeTokenizer::FromFile(json);
    if (bpe.ok()) return std::unique_ptr<Tokenizer>(std::move(*bpe));
    bpe_error = bpe.status();
  }
  if (std::filesystem::exists(model, ec))
    return LoadSentencePiece(model, model_dir + "/tokenizer_config.json");
  return bpe_error;
}

}  // namespace loom::phi
