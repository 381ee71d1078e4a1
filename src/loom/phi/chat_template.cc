// Chat templates; see chat_template.h.
#include "loom/phi/chat_template.h"

#include "loom/base/strings.h"

namespace loom::phi {

StatusOr<std::string> RenderChat(ChatFormat format, const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt, const std::string& eos_text) {
  std::string out;
  for (const auto& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      return InvalidArgumentError(StrCat("chat: unknown role '", m.role, "'"));
    switch (format) {
      case ChatFormat::kPhi3:
        if (m.role == "system" && m.content.empty()) break;
        out += StrCat("<|", m.role, "|>\n", m.content, "<|end|>\n");
        break;
      case ChatFormat::kPhi4:
        out += StrCat("<|im_start|>", m.role, "<|im_sep|>", m.content, "<|im_end|>");
        break;
      case ChatFormat::kInstruct:
        if (m.role == "user") out += StrCat("Instruct: ", m.content, "\nOutput:");
        else if (m.role == "assistant") out += StrCat(" ", m.content, "\n");
        else out += StrCat(m.content, "\n");
        break;
    }
  }
  if (format == ChatFormat::kPhi3) out += add_generation_prompt ? "<|assistant|>\n" : eos_text;
  if (format == ChatFormat::kPhi4 && add_generation_prompt) out += "<|im_start|>assistant<|im_sep|>";
  return out;
}

std::vector<std::string> StopTokenTexts(ChatFormat format) {
  switch (format) {
    case ChatFormat::kPhi3: return {"<|end|>", "<|endoftext|>"};
    case ChatFormat::kPhi4: return {"<|im_end|>", "<|endoftext|>"};
    case ChatFormat::kInstruct: return {"<|endoftext|>"};
  }
  return {};
}

}  // namespace loom::phi
