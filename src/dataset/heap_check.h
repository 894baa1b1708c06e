// A guard in front of libhdf5 1.10's reading of old-style groups. Such a group (every group
// cardsynth writes: the default file format) keeps its link names in a local heap, and the
// library follows the heap's list of free blocks without noticing a cycle: a crafted file whose
// list loops makes it allocate without end before any call returns. Nothing above the library
// sees that happen, so the list is walked here, from the file's bytes, before the library looks
// up a name in the group.
#pragma once

#include <cstdint>
#include <string>

namespace cardsynth::h5 {

// Where the file's addresses start and how wide its offsets and lengths are (the superblock's).
struct FileLayout {
    uint64_t base = 0;
    int offset_bytes = 8;
    int length_bytes = 8;
};

// Throws DatasetError naming `group` and `path` when the object whose header starts at `header`
// is an old-style group whose local heap's free list loops or runs past the heap. Anything it
// cannot read (a header or heap that is not where it should be) it leaves to the library, which
// refuses those cleanly.
void require_finite_heap(const std::string& path, const FileLayout& layout, uint64_t header,
                         const std::string& group);

}  // namespace cardsynth::h5
