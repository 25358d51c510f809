include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(OpenCL)
include("${CMAKE_CURRENT_LIST_DIR}/edgegridTargets.cmake")
