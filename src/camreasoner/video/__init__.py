"""Video input: one PyAV decoder, the observer's grey-frame reader and the VLM frame sampler."""
