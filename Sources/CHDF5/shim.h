#pragma once
// Debian: headers in /usr/include/hdf5/serial, lib in /usr/lib/x86_64-linux-gnu/hdf5/serial
// (both come from `pkg-config hdf5`).
#include <hdf5.h>

// HDF5's type and property-list ids are macros like `(H5open(), H5T_NATIVE_FLOAT_g)`, and the
// file flags `(H5check(), H5open(), 0x0002u)`: Swift cannot import those, so wrap them.
static inline hid_t  chdf5_T_NATIVE_FLOAT(void)   { return H5T_NATIVE_FLOAT; }
static inline hid_t  chdf5_T_NATIVE_DOUBLE(void)  { return H5T_NATIVE_DOUBLE; }
static inline hid_t  chdf5_T_NATIVE_INT32(void)   { return H5T_NATIVE_INT32; }
static inline hid_t  chdf5_T_NATIVE_INT64(void)   { return H5T_NATIVE_INT64; }
static inline hid_t  chdf5_T_NATIVE_UINT8(void)   { return H5T_NATIVE_UINT8; }
static inline hid_t  chdf5_T_C_S1(void)           { return H5T_C_S1; }
static inline hid_t  chdf5_P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t  chdf5_P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t  chdf5_P_FILE_ACCESS(void)    { return H5P_FILE_ACCESS; }
static inline hid_t  chdf5_P_DEFAULT(void)        { return H5P_DEFAULT; }
static inline hid_t  chdf5_S_ALL(void)            { return H5S_ALL; }
static inline hsize_t chdf5_S_UNLIMITED(void)     { return H5S_UNLIMITED; }
static inline unsigned chdf5_F_ACC_TRUNC(void)    { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_F_ACC_EXCL(void)     { return H5F_ACC_EXCL; }
static inline unsigned chdf5_F_ACC_RDONLY(void)   { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_F_ACC_RDWR(void)     { return H5F_ACC_RDWR; }

// Added for the Artefacts HDF5 wrapper (Sources/Artefacts/HDF5/).
static inline hid_t  chdf5_T_NATIVE_INT8(void)    { return H5T_NATIVE_INT8; }
static inline hid_t  chdf5_T_IEEE_F32LE(void)     { return H5T_IEEE_F32LE; }
static inline hid_t  chdf5_T_IEEE_F64LE(void)     { return H5T_IEEE_F64LE; }
static inline hid_t  chdf5_T_STD_I8LE(void)       { return H5T_STD_I8LE; }
static inline hid_t  chdf5_T_STD_I32LE(void)      { return H5T_STD_I32LE; }
static inline hid_t  chdf5_T_STD_I64LE(void)      { return H5T_STD_I64LE; }
static inline hid_t  chdf5_T_STD_U8LE(void)       { return H5T_STD_U8LE; }
static inline size_t chdf5_T_VARIABLE(void)       { return H5T_VARIABLE; }
static inline hid_t  chdf5_P_LINK_CREATE(void)    { return H5P_LINK_CREATE; }
