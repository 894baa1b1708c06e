// Guards in front of libhdf5 1.10's reading of object headers, for structures the library
// trusts. An old-style group (every group cardsynth writes: the default file format) keeps its
// link names in a local heap, and the library follows the heap's list of free blocks without
// noticing a cycle: a crafted file whose list loops makes it allocate without end before any call
// returns. A chunked dataset whose layout declares a chunk dimension of 0 makes the library divide
// by zero while it opens the dataset. Nothing above the library sees either happen, so both are
// read here, from the file's bytes, before the library does. So is the superblock's end of file,
// which tells --resume a file the library would refuse as truncated.
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
// is an old-style group whose local heap is not whole where the header says, or whose free list
// loops or runs past the heap. A header it cannot read it leaves to the library, which refuses
// it cleanly.
void require_finite_heap(const std::string& path, const FileLayout& layout, uint64_t header,
                         const std::string& group);

// Throws DatasetError naming `dataset` and `path` when the layout message of the object whose
// header starts at `header` declares chunks with a dimension of 0.
void require_nonzero_chunks(const std::string& path, const FileLayout& layout, uint64_t header,
                            const std::string& dataset);

// True when the file at `path` is shorter than the end of file its superblock records. A writer
// that stops (a kill, a crash, a node lost) after a flush has written the superblock and before
// the file has been extended to that end leaves such a file; so does a file cut short. The
// library refuses it as truncated.
bool shorter_than_recorded(const std::string& path);

}  // namespace cardsynth::h5
