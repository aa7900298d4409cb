"""The local stack's identity provider and people table, in moto's server: a Cognito user pool
with the page's app client (user name and password, no secret) and two people, and, unless the
template makes it (`--no-table`), the people table as the template defines it.

The two people are test values: alice / Alice-local-1 and bob / Bob-local-1.

Prints shell assignments for scripts/local: the issuer its tokens carry (Cognito's form, on
amazonaws.com), the app client id, where the pool's keys are really served (moto's address,
as the issuer's host is not this machine) and where the page posts InitiateAuth.

Usage: python scripts/local_identity.py MOTO_URL PEOPLE_TABLE [--no-table]
"""

import shlex
import sys

import boto3

PEOPLE = {"alice": ("Alice-local-1", "Alice"), "bob": ("Bob-local-1", "Bob")}


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def people_table(dynamodb, name):
    """The template's PeopleTable: a person's items under one partition key, on demand."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
    )


def user_pool(cognito):
    pool = cognito.create_user_pool(
        PoolName="acs-chat-api-local-people",
        UsernameConfiguration={"CaseSensitive": False},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    app = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="page", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    for username, (password, name) in PEOPLE.items():
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "name", "Value": name}])
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password,
                                        Permanent=True)
    return pool, app


def main(moto, table, *flags):
    moto = moto.rstrip("/")
    if "--no-table" not in flags:
        people_table(client("dynamodb", moto), table)
    pool, app = user_pool(client("cognito-idp", moto))
    settings = {
        "IDP_ISSUER": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
        "IDP_AUDIENCE": app,
        "IDP_JWKS_URL": f"{moto}/{pool}/.well-known/jwks.json",
        "IDP_SIGN_IN_URL": f"{moto}/",
    }
    for name, value in settings.items():
        print(f"{name}={shlex.quote(value)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
