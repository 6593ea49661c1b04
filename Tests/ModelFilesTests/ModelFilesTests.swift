// ModelFilesTests
