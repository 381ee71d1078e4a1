// Max-min fair bandwidth shares (progressive filling) for flows over unit-capacity resources:
// how the simulator's shared-port model splits a switch port, NIC or NVLink among the concurrent
// transfers of different thread blocks. Each flow uses one or two resources (sender's egress,
// receiver's ingress) and its rate is capped at 1 (its link's full rate). Stateless apart from
// scratch buffers; one FairShare object per thread.
#pragma once

#include <array>
#include <vector>

namespace loom::taccl {

class FairShare {
 public:
  explicit FairShare(int num_resources) : cap_(num_resources), count_(num_resources) {}

  // flows[f] = the resources flow f occupies (-1 = unused slot); rates[f] = its share in
  // [0, 1]. Result: no resource carries more than 1, and every flow is either at rate 1 or
  // crosses a saturated resource on which no flow has a higher rate (the max-min condition).
  void Rates(const std::vector<std::array<int, 2>>& flows, std::vector<double>* rates);

 private:
  std::vector<double> cap_;
  std::vector<int> count_;
  std::vector<int> touched_;
  std::vector<std::vector<int>> members_;
};

// Slow reference for tests: checks the max-min condition above; returns "" or what is wrong.
const char* CheckMaxMinFair(int num_resources, const std::vector<std::array<int, 2>>& flows,
                            const std::vector<double>& rates);

}  // namespace loom::taccl
