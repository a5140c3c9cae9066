"""The tools of `tools/`, wrapped for the agent as LangChain structured tools.

The wrappers add four things and no business rule: what the model reads (`present`), errors
as sentences the model can act on rather than exceptions that end the turn (`build`), the
typed result and what it is about, kept for the answer (`build.Found`), and who may propose
what (`turn`). The functions they wrap stay in `tools/`.
"""

from bot.agent.tools.build import build_tools
from bot.agent.tools.turn import Turn, turn_scope

__all__ = ["Turn", "build_tools", "turn_scope"]
