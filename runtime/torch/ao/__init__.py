"""torch.ao for wasmdeploy: the float-model pieces of quantization that model code imports."""
