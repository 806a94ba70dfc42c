# Compile flags for tinyml's own targets: warnings are errors, optional -march=native and sanitizers.
function(tinyml_target_flags target)
  # -fno-math-errno lets loops with sqrt vectorize (errno is never read).
  target_compile_options(${target} PRIVATE -Wall -Wextra -fno-math-errno)
  if(TINYML_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(TINYML_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(TINYML_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                              -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
