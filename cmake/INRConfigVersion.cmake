# Version check of the source-tree INR package (INR_DIR=<repo>/cmake): the
# version is the `version` of Cargo.toml. Compatible: the same major version,
# and for 0.x versions the same minor version too (Cargo's semver rule), with
# at least the requested version. The installed package gets a version file
# from write_basic_package_version_file with the same rule.
include("${CMAKE_CURRENT_LIST_DIR}/INRHelpers.cmake")
inr_read_cargo_version("${CMAKE_CURRENT_LIST_DIR}/../Cargo.toml" PACKAGE_VERSION)

set(PACKAGE_VERSION_COMPATIBLE FALSE)
set(PACKAGE_VERSION_EXACT FALSE)
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _inr_mm "${PACKAGE_VERSION}")
set(_inr_major "${CMAKE_MATCH_1}")
set(_inr_minor "${CMAKE_MATCH_2}")

if(NOT PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
elseif(PACKAGE_VERSION VERSION_GREATER_EQUAL PACKAGE_FIND_VERSION
       AND PACKAGE_FIND_VERSION_MAJOR EQUAL _inr_major
       AND (NOT _inr_major EQUAL 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL _inr_minor))
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_FIND_VERSION AND PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()

# libinr is built for the host: a 64-bit library for 64-bit consumers.
if(CMAKE_SIZEOF_VOID_P AND NOT CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(PACKAGE_VERSION "${PACKAGE_VERSION} (64bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
