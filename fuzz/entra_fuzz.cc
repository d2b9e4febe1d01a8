// Fuzzes the entra importer with one record (see importer_fuzz.h for the properties).
#include "importer_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nhitrace::fuzz::FuzzImporter(data, size, &nhitrace::ingest::entra::MakeImporter);
}
