# Every dependency comes from Debian's packages; scripts/install-deps installs them.
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(libjpeg-turbo REQUIRED)

# Parallel HDF5 is checked, not assumed: a serial library cannot write one shared file.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
    message(FATAL_ERROR "The HDF5 found (${HDF5_C_INCLUDE_DIRS}) is serial; cardsynth needs "
                        "parallel HDF5: apt-get install libhdf5-openmpi-dev")
endif()
add_library(cardsynth_hdf5 INTERFACE)
target_include_directories(cardsynth_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(cardsynth_hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
target_compile_definitions(cardsynth_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
add_library(cardsynth::hdf5 ALIAS cardsynth_hdf5)
