"""The steps as plain functions on paths and numbers. Nothing here imports kfp."""
