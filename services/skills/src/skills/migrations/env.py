from servicekit.migrations import run_env
from skills.models import Base

run_env(Base.metadata)
