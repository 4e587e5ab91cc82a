"""The product catalogue: `catalogue.toml`, shipped inside the package and read once.

Prices come from this file and nowhere else (PAY-05): an order's amount is
copied from its product when the order is created.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ProductId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ProductId
    name: str = Field(min_length=1, max_length=200)
    amount: int = Field(gt=0, description="In the currency's minor unit")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    provider_product: str = Field(min_length=1, max_length=255)


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    products: list[Product] = Field(min_length=1)


CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")


@cache
def load_catalogue() -> Mapping[str, Product]:
    """The products by id; a malformed file stops the service at start-up, not at checkout."""
    listed = Catalogue.model_validate(tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8")))
    products = {product.id: product for product in listed.products}
    if len(products) != len(listed.products):
        raise ValueError("catalogue.toml lists a product id twice")
    return products
