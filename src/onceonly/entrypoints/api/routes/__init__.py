"""The API's routes, one module per feature, each an APIRouter that create_app includes."""
