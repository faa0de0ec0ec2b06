# sctrace_embed(TARGET NAME FILE): generates a .cc that defines
#   std::string_view sctrace::embedded::NAME()
# holding the bytes of FILE, and adds it to TARGET.
function(sctrace_embed target name file)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded_${name}.cc")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DNAME=${name}
            -P "${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake"
    DEPENDS "${file}" "${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake"
    VERBATIM)
  target_sources(${target} PRIVATE "${out}")
endfunction()
