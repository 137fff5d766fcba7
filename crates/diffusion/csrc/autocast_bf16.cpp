// tch turns CUDA autocast on and off but cannot choose its dtype (libtorch's default is f16);
// this one call makes it bf16, which needs no loss scaling.
#include <ATen/autocast_mode.h>

extern "C" void vidnas_autocast_cuda_bf16() {
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
}
