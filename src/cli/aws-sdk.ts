// The SDK credential providers as one lazily loaded module of the CLI bundle: the token path's entry file stays free
// of them, and loads this only when static environment credentials are not enough.
export { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
