# Install-time part of `cmake --install` for libinr, included by an
# install(CODE) rule of the top-level CMakeLists.txt, which sets:
#   INR_CMAKE_SOURCE_DIR   this directory
#   INR_STAGING_DIR        a scratch directory in the build tree
#   INR_SHARED_LIBRARY     cargo's libinr.so
#   INR_VERSION            the version of Cargo.toml
#   INR_INSTALL_LIBDIR, INR_INSTALL_INCLUDEDIR, INR_INSTALL_CMAKEDIR,
#   INR_INSTALL_PKGCONFIGDIR   destinations, relative to the prefix (or absolute)
#
# It runs at install time rather than configure time because what it writes
# depends on the library cargo built last: when libinr.so has a SONAME other
# than its name (e.g. libinr.so.1), the library is installed under that name
# with a libinr.so symlink for the linker, and the package files say so.
# INRConfig.cmake is relocatable; inr.pc names the actual install prefix
# (`cmake --install --prefix` included). DESTDIR is honoured by file(INSTALL).

include("${INR_CMAKE_SOURCE_DIR}/INRHelpers.cmake")

# Destination dir (absolute, before DESTDIR) and how INRConfig.cmake names it.
function(_inr_destination rel out_abs out_config)
  if(IS_ABSOLUTE "${rel}")
    set(${out_abs} "${rel}" PARENT_SCOPE)
    set(${out_config} "${rel}" PARENT_SCOPE)
  else()
    set(${out_abs} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
    set(${out_config} "\${_INR_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

_inr_destination("${INR_INSTALL_LIBDIR}" _libdir INR_INSTALL_LIBDIR_ABS)
_inr_destination("${INR_INSTALL_INCLUDEDIR}" _includedir INR_INSTALL_INCLUDEDIR_ABS)
_inr_destination("${INR_INSTALL_CMAKEDIR}" _cmakedir _unused)
_inr_destination("${INR_INSTALL_PKGCONFIGDIR}" _pkgconfigdir _unused)

if(NOT EXISTS "${INR_SHARED_LIBRARY}")
  message(FATAL_ERROR "INR: ${INR_SHARED_LIBRARY} does not exist: build the project before installing it")
endif()
file(REMOVE_RECURSE "${INR_STAGING_DIR}")
file(MAKE_DIRECTORY "${INR_STAGING_DIR}")

# The shared library.
set(_inr_permissions FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
  GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
inr_read_soname("${INR_SHARED_LIBRARY}" INR_SONAME)
if(INR_SONAME AND NOT INR_SONAME STREQUAL "libinr.so")
  file(INSTALL DESTINATION "${_libdir}" TYPE FILE
    ${_inr_permissions} FILES "${INR_SHARED_LIBRARY}" RENAME "${INR_SONAME}")
  file(CREATE_LINK "${INR_SONAME}" "${INR_STAGING_DIR}/libinr.so" SYMBOLIC)
  file(INSTALL DESTINATION "${_libdir}" TYPE FILE
    FILES "${INR_STAGING_DIR}/libinr.so")
  set(INR_SHARED_FILE "${INR_SONAME}")
else()
  file(INSTALL DESTINATION "${_libdir}" TYPE FILE
    ${_inr_permissions} FILES "${INR_SHARED_LIBRARY}")
  set(INR_SHARED_FILE "libinr.so")
endif()

# INRConfig.cmake: paths relative to its own directory.
file(RELATIVE_PATH INR_RELATIVE_PREFIX "${_cmakedir}" "${CMAKE_INSTALL_PREFIX}")
if(INR_RELATIVE_PREFIX STREQUAL "")
  set(INR_RELATIVE_PREFIX ".")
endif()
set(INR_STATIC_SYSTEM_LIBS "${INR_STATIC_SYSTEM_LIBS}")
configure_file("${INR_CMAKE_SOURCE_DIR}/INRConfigInstalled.cmake.in"
  "${INR_STAGING_DIR}/INRConfig.cmake" @ONLY)
file(INSTALL DESTINATION "${_cmakedir}" TYPE FILE FILES "${INR_STAGING_DIR}/INRConfig.cmake")

# inr.pc
set(INR_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(_pair "LIBDIR;INR_INSTALL_LIBDIR" "INCLUDEDIR;INR_INSTALL_INCLUDEDIR")
  list(GET _pair 0 _name)
  list(GET _pair 1 _var)
  if(IS_ABSOLUTE "${${_var}}")
    set(INR_PC_${_name} "${${_var}}")
  else()
    set(INR_PC_${_name} "\${prefix}/${${_var}}")
  endif()
endforeach()
list(TRANSFORM INR_STATIC_SYSTEM_LIBS PREPEND "-l" OUTPUT_VARIABLE _libs)
string(REPLACE ";" " " INR_PC_LIBS_PRIVATE "${_libs}")
configure_file("${INR_CMAKE_SOURCE_DIR}/inr.pc.in" "${INR_STAGING_DIR}/inr.pc" @ONLY)
file(INSTALL DESTINATION "${_pkgconfigdir}" TYPE FILE FILES "${INR_STAGING_DIR}/inr.pc")
