// Compiled only to build a precompiled header that several programs share (TinymlBuildSpeed.cmake:
// the test programs' and the small programs').
