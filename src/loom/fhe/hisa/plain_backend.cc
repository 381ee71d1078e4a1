// HISA reference backend: values are exact double vectors of length vec_size; level, scale
// and size are only tracked (by the Backend base, with the same legality checks as CKKS).
#include <map>

#include "loom/fhe/hisa/hisa.h"

namespace loom::hisa {
namespace {

class PlainBackend final : public Backend {
 public:
  using Backend::Backend;
  const char* name() const override { return "plain"; }

 protected:
  Status DoEncode(std::span<const double> v, double, int, uint32_t out) override {
    values_[out].assign(v.begin(), v.end());
    return OkStatus();
  }
  StatusOr<std::vector<double>> DoDecode(uint32_t p) override { return values_.at(p); }
  Status DoEncrypt(uint32_t p, uint32_t out) override { return Same(p, out); }
  Status DoDecrypt(uint32_t c, uint32_t out) override { return Same(c, out); }
  Status DoCopy(uint32_t c, uint32_t out) override { return Same(c, out); }
  void DoFree(uint32_t id) override { values_.erase(id); }
  Status DoRotate(uint32_t c, int64_t k, uint32_t out) override {
    const auto& v = values_.at(c);
    const int64_t n = static_cast<int64_t>(v.size());
    std::vector<double> r(v.size());
    for (int64_t i = 0; i < n; ++i) r[i] = v[static_cast<size_t>((((i + k) % n) + n) % n)];
    values_[out] = std::move(r);
    return OkStatus();
  }
  Status DoAdd(uint32_t a, uint32_t b, bool, bool subtract, uint32_t out) override {
    std::vector<double> r = values_.at(a);
    const auto& y = values_.at(b);
    for (size_t i = 0; i < r.size(); ++i) r[i] = subtract ? r[i] - y[i] : r[i] + y[i];
    values_[out] = std::move(r);
    return OkStatus();
  }
  Status DoAddScalar(uint32_t a, double b, uint32_t out) override {
    std::vector<double> r = values_.at(a);
    for (auto& x : r) x += b;
    values_[out] = std::move(r);
    return OkStatus();
  }
  Status DoNegate(uint32_t a, uint32_t out) override {
    std::vector<double> r = values_.at(a);
    for (auto& x : r) x = -x;
    values_[out] = std::move(r);
    return OkStatus();
  }
  Status DoMul(uint32_t a, uint32_t b, bool, uint32_t out) override {
    std::vector<double> r = values_.at(a);
    const auto& y = values_.at(b);
    for (size_t i = 0; i < r.size(); ++i) r[i] *= y[i];
    values_[out] = std::move(r);
    return OkStatus();
  }
  Status DoMulScalar(uint32_t a, double b, double, uint32_t out) override {
    std::vector<double> r = values_.at(a);
    for (auto& x : r) x *= b;
    values_[out] = std::move(r);
    return OkStatus();
  }
  Status DoRescale(uint32_t c, int, uint32_t out) override { return Same(c, out); }
  Status DoModSwitch(uint32_t c, int, uint32_t out) override { return Same(c, out); }
  Status DoRelinearize(uint32_t c, uint32_t out) override { return Same(c, out); }

 private:
  Status Same(uint32_t in, uint32_t out) {
    values_[out] = values_.at(in);
    return OkStatus();
  }
  std::map<uint32_t, std::vector<double>> values_;
};

}  // namespace

std::unique_ptr<Backend> MakePlainBackend(ckks::ContextPtr ctx, BackendOptions options) {
  return std::make_unique<PlainBackend>(std::move(ctx), std::move(options));
}

}  // namespace loom::hisa
