"""Hosted providers through pydantic-ai-slim, and the factory that picks an adapter for an alias.

OpenAI, Anthropic and Gemini are reached with pydantic-ai's direct `model_request`: it translates messages and the JSON schema to
each wire format and classifies provider errors. Any other OpenAI-compatible URL (vLLM, Ollama,
llama-cpp-python's server, OpenRouter, DeepSeek) speaks one of several dialects of structured
output, which `openxiv.llm.openai_compat` negotiates. The SDKs' own retries are switched off; the
`LLMClient` retries, so that every attempt is recorded and Retry-After is honoured in one place.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

from openxiv.llm.port import (
    Adapter,
    Completion,
    LLMAuthError,
    LLMConfigError,
    Message,
    ModelCall,
    PermanentLLMError,
    TransientLLMError,
    estimate_tokens,
)
from openxiv.llm.settings import LLMSettings, ModelAlias


def build_adapter(name: str, alias: ModelAlias, settings: LLMSettings) -> Adapter:
    if alias.provider == "embedded":
        from openxiv.llm.local import EmbeddedAdapter

        return EmbeddedAdapter(alias, settings.embedded, name)
    if alias.provider == "test":
        from openxiv.llm.replay import SchemaFillAdapter

        return SchemaFillAdapter(alias.model)
    if alias.provider == "openai-compatible":
        from openxiv.llm.openai_compat import OpenAICompatibleAdapter

        return OpenAICompatibleAdapter(name, alias)
    return PydanticAIAdapter(name, alias)


class PydanticAIAdapter:
    def __init__(self, name: str, alias: ModelAlias) -> None:
        self.name = name
        self.alias = alias
        # pydantic-ai models hold an async HTTP client bound to the event loop that first used it;
        # worker threads each run their own loop, so keep one model per loop.
        self._models: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _api_key(self) -> str | None:
        env = self.alias.key_env()
        key = os.environ.get(env) if env else None
        if key:
            return key
        raise LLMConfigError(
            f"model alias {self.name!r} (provider {self.alias.provider}) needs an API key: "
            f"set the environment variable {env}"
        )

    def _model(self) -> Any:
        loop = asyncio.get_running_loop()
        model = self._models.get(loop)
        if model is None:
            model = self._build_model(self._api_key())
            self._models[loop] = model
        return model

    def _build_model(self, api_key: str | None) -> Any:
        alias, provider = self.alias, self.alias.provider
        if provider == "openai":
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            return OpenAIChatModel(
                alias.model, provider=OpenAIProvider(base_url=alias.base_url, api_key=api_key)
            )
        if provider == "anthropic":
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            return AnthropicModel(
                alias.model, provider=AnthropicProvider(base_url=alias.base_url, api_key=api_key)
            )
        if provider == "gemini":
            from pydantic_ai.models.google import GoogleModel
            from pydantic_ai.providers.google import GoogleProvider

            return GoogleModel(alias.model, provider=GoogleProvider(base_url=alias.base_url, api_key=api_key))
        raise LLMConfigError(f"model alias {self.name!r}: unknown provider {provider!r}")

    async def complete(self, call: ModelCall) -> Completion:
        from pydantic_ai import exceptions as errors
        from pydantic_ai.direct import model_request
        from pydantic_ai.models import ModelRequestParameters
        from pydantic_ai.output import OutputObjectDefinition

        model = self._model()
        profile = model.profile
        native = self.alias.structured == "native" and bool(
            _profile_get(profile, "supports_json_schema_output")
        )
        output = OutputObjectDefinition(json_schema=call.json_schema, name=call.schema_name)
        parameters = ModelRequestParameters(
            output_mode="native" if native else "prompted",
            output_object=output,
            prompted_output_template=None if native else _profile_get(profile, "prompted_output_template"),
        )
        settings: dict[str, Any] = {
            "temperature": call.temperature,
            "max_tokens": call.max_output_tokens,
            "timeout": self.alias.timeout_s,
            "max_retries": 0,
        }
        try:
            response = await model_request(
                model,
                _to_pydantic_ai(call.messages),
                model_settings=settings,  # type: ignore[arg-type]
                model_request_parameters=parameters,
            )
        except errors.ModelAuthenticationError as error:
            raise LLMAuthError(self.name, self.alias.provider, self.alias.key_env(), _short(error)) from error
        except errors.ModelQuotaExceededError as error:
            raise PermanentLLMError(
                f"model alias {self.name!r}: quota exhausted -- {_short(error)}"
            ) from error
        except (
            errors.ModelRateLimitError,
            errors.ModelUnavailableError,
            errors.ModelServerError,
            errors.ModelConnectionError,
            errors.ModelRequestTimeout,
        ) as error:
            status = getattr(error, "status_code", None)
            raise TransientLLMError(
                f"model alias {self.name!r}: {type(error).__name__} {status or ''} {_short(error)}".strip(),
                retry_after=error.retry_after,
                status=status,
            ) from error
        except errors.ModelAPIError as error:
            status = getattr(error, "status_code", None)
            if isinstance(status, int) and (status == 408 or status >= 500):
                raise TransientLLMError(
                    f"model alias {self.name!r}: HTTP {status}", retry_after=error.retry_after, status=status
                ) from error
            raise PermanentLLMError(f"model alias {self.name!r}: {_short(error)}") from error
        except errors.UnexpectedModelBehavior as error:
            raise TransientLLMError(
                f"model alias {self.name!r}: unexpected answer -- {_short(error)}"
            ) from error
        from pydantic_ai.messages import TextPart

        text = "".join(part.content for part in response.parts if isinstance(part, TextPart))
        return Completion(
            text=text,
            input_tokens=int(response.usage.input_tokens or 0),
            output_tokens=int(response.usage.output_tokens or 0),
            model=response.model_name or self.alias.model,
            finish_reason=str(response.finish_reason) if response.finish_reason else None,
        )


def _profile_get(profile: Any, key: str) -> Any:
    return profile.get(key) if isinstance(profile, dict) else getattr(profile, key, None)


def _short(error: BaseException) -> str:
    return str(error).replace("\n", " ")[:300]


def _to_pydantic_ai(messages: tuple[Message, ...]) -> list[Any]:
    from pydantic_ai.messages import ModelRequest, ModelResponse, SystemPromptPart, TextPart, UserPromptPart

    history: list[Any] = []
    pending: list[Any] = []
    for message in messages:
        if message.role == "assistant":
            if pending:
                history.append(ModelRequest(parts=pending))
                pending = []
            history.append(ModelResponse(parts=[TextPart(content=message.content)]))
        elif message.role == "system":
            pending.append(SystemPromptPart(content=message.content))
        else:
            pending.append(UserPromptPart(content=message.content))
    if pending:
        history.append(ModelRequest(parts=pending))
    return history
