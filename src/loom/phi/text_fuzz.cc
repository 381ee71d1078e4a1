// Fuzz target for phi's text parsers: config.json (ParsePhiConfig), tokenizer.json
// (BpeTokenizer::FromJson) and the hand-written pre-tokenizers, which must return a Status or
// split any byte string into pieces that concatenate back to it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "loom/base/check.h"
#include "loom/base/json.h"
#include "loom/phi/config.h"
#include "loom/phi/pretokenize.h"
#include "loom/phi/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto split : {loom::phi::SplitGpt2, loom::phi::SplitCl100k}) {
    std::string joined;
    for (std::string_view piece : split(text)) {
      LOOM_CHECK(!piece.empty());
      joined += piece;
    }
    LOOM_CHECK(joined == text);
  }
  auto doc = loom::ParseJson(text, "fuzz.json");
  if (!doc.ok()) return 0;
  (void)loom::phi::ParsePhiConfig(*doc);
  auto tok = loom::phi::BpeTokenizer::FromJson(*doc);
  if (tok.ok()) (void)(*tok)->Decode((*tok)->Encode("fuzz <|endoftext|> text"));
  return 0;
}
