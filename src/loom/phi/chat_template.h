// Chat prompts of the instruct models, rendered as their published templates do:
//   Phi-3 / 3.5: "<|role|>\n" + content + "<|end|>\n" per message (a system message only when
//                non-empty), then "<|assistant|>\n" (generation prompt) or the EOS text;
//   phi-4:       "<|im_start|>role<|im_sep|>" + content + "<|im_end|>" per message, then
//                "<|im_start|>assistant<|im_sep|>".
// phi-1/1.5/2 have no template; their cards suggest "Instruct: ...\nOutput:".
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "loom/base/status.h"

namespace loom::phi {

enum class ChatFormat { kPhi3, kPhi4, kInstruct };

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

StatusOr<std::string> RenderChat(ChatFormat format, const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt, const std::string& eos_text = "");

// The end-of-turn token texts each format stops on (besides the config's eos ids).
std::vector<std::string> StopTokenTexts(ChatFormat format);

}  // namespace loom::phi
