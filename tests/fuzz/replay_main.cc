// Runs a fuzz target once over every file of the corpus directories (or files)
// it is given: how the normal build, which has no libFuzzer, keeps every
// corpus entry, and so every regression input, passing. Arguments starting
// with '-' (libFuzzer flags) are ignored. Fails when it finds no input.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

void RunFile(const std::filesystem::path& path, size_t& runs) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy of exactly `size` bytes, so reading past the end is caught.
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(copy.data(), copy.size());
  ++runs;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg[0] == '-') continue;
    if (!std::filesystem::exists(arg)) {
      std::fprintf(stderr, "%s: no such corpus\n", arg.c_str());
      return 1;
    }
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) RunFile(entry.path(), runs);
      }
    } else {
      RunFile(arg, runs);
    }
  }
  std::printf("ran %zu inputs\n", runs);
  return runs == 0 ? 1 : 0;
}
