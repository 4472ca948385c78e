"""Read and validate intake records; dead-letter what fails."""
