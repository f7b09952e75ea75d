# Warnings for weft's own targets only: PRIVATE, never forced on consumers.
# Presets turn them into errors with CMAKE_COMPILE_WARNING_AS_ERROR.
function(weft_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                            -Wold-style-cast -Wcast-align)
endfunction()
