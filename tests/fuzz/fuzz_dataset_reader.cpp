// Fuzzes the dataset file reader: the input bytes are a file, opened with DatasetReader; its
// header, /done, every image's labels and stored bytes are read, then `inspect` describes it. A
// file that is not a usable dataset must come back as a cardsynth::Error (DatasetError or
// InputError), never as a crash or an out-of-bounds access. The seeds are small valid files, so
// that most mutations still parse as HDF5 and reach the cardsynth checks.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "commands/inspect.h"
#include "dataset/dataset_reader.h"

namespace {

// Keeps one input under a second: a mutated num_images or frame size that the file's shapes
// agree with can still describe far more data than the seed holds.
constexpr int64_t kMaxImages = 64;
constexpr int64_t kMaxFrameBytes = 1 << 22;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_dataset_reader: %s\n", what.c_str());
    std::abort();
}

// One file per process, rewritten for every input, so that parallel fuzzing jobs do not clash.
const std::string& scratch_path() {
    static const std::string path =
        "/tmp/cardsynth-fuzz-dataset-" + std::to_string(static_cast<long>(::getpid())) + ".h5";
    return path;
}

void write_scratch(const uint8_t* data, size_t size) {
    FILE* file = std::fopen(scratch_path().c_str(), "wb");
    if (!file) fail("cannot write " + scratch_path());
    if (size > 0 && std::fwrite(data, 1, size, file) != size) fail("short write");
    if (std::fclose(file) != 0) fail("cannot close " + scratch_path());
}

void read_everything() {
    const cardsynth::DatasetReader reader(scratch_path());
    const cardsynth::DatasetHeader& h = reader.header();
    if (h.num_images > kMaxImages || static_cast<int64_t>(h.width) * h.height * 3 > kMaxFrameBytes)
        return;
    const std::vector<uint8_t> done = reader.done();
    if (static_cast<int64_t>(done.size()) != h.num_images)
        fail("/done has " + std::to_string(done.size()) + " entries for " +
             std::to_string(h.num_images) + " images");
    for (int64_t i = 0; i < h.num_images; ++i) {
        // One broken image must not hide the others: each read stands alone.
        try {
            const cardsynth::ImageLabels labels = reader.labels(i);
            if (static_cast<int>(labels.cards.size()) > h.max_cards)
                fail("image " + std::to_string(i) + " has more cards than max_cards");
        } catch (const cardsynth::DatasetError&) {
        }
        try {
            const std::vector<uint8_t> bytes = reader.image_bytes(i);
            if (h.storage == cardsynth::Storage::Raw &&
                static_cast<int64_t>(bytes.size()) != static_cast<int64_t>(h.width) * h.height * 3)
                fail("a raw image of the wrong size");
        } catch (const cardsynth::DatasetError&) {
        }
    }
    reader.all_card_ids();
    cardsynth::inspect_dataset(scratch_path());
}

}  // namespace

// libhdf5 leaks some of what it allocated on the error paths of a corrupted file (a few hundred
// bytes in its metadata cache), which is HDF5's to fix; a leak from our own code still counts,
// since its allocation stack does not start in libhdf5.
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libhdf5\n";
}

// A corrupted size field makes libhdf5 ask malloc for tens of GiB (H5C_protect); it handles a
// null answer as an error, which is what a real machine gives it, so large requests fail here
// instead of ending the run. Our own allocations go through operator new, which still reports.
// libhdf5 (not instrumented) also reads past its own buffers when it decodes a corrupted object
// header (H5O__msg_iterate_real, in H5Aexists_by_name), which ASan sees in the memcpy
// interceptor. That is HDF5's bug, so reports from interceptors called by libhdf5 are
// suppressed. The price: an overrun of one of our buffers by H5Dread would be hidden too, which
// is why read_everything checks the size of everything it reads, and why the reader checks every
// shape before it sizes a buffer.
extern "C" const char* __asan_default_suppressions() {
    return "interceptor_via_lib:libhdf5\n";
}

extern "C" const char* __asan_default_options() {
    return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    write_scratch(data, size);
    try {
        read_everything();
    } catch (const cardsynth::Error&) {
        // The reader's answer to a file it cannot use: a sentence, which is what we want.
    }
    return 0;
}
