/**
 * Signature test vectors from reference/exec-protocol-and-clients.md §1.10, computed with botocore: presigned STS
 * GetCallerIdentity for cluster `eks-cluster` with access key `AKID` / secret `SECRET`, signed at 20200930T093726Z.
 */
export const VECTOR_SIGNED_AT = new Date('2020-09-30T09:37:26Z');
export const VECTOR_CLUSTER = 'eks-cluster';
export const VECTOR_CREDENTIALS = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' } as const;
export const VECTOR_SESSION_TOKEN = 'FwoGZXIvYXdzEMP//////////wEaDLuLD7I1gA6LW1mZcSKxAZWj_trunc';

export interface SignatureVector {
  region: string;
  host: string;
  sessionToken?: string;
  signature: string;
}

export const SIGNATURE_VECTORS: readonly SignatureVector[] = [
  { region: 'us-west-2', host: 'sts.us-west-2.amazonaws.com', signature: 'ff1c89c16f25275f8a4c7311678f447722646d643588854a114d168b062c4bf0' },
  { region: 'us-east-1', host: 'sts.us-east-1.amazonaws.com', signature: '69729246f5a4be8d8bbfee5ba5b60e36b3af028cdff84dc502c1d6bc4a38e46d' },
  { region: 'eu-west-1', host: 'sts.eu-west-1.amazonaws.com', signature: '129e20180adfbd6d316b2ec96be63177c10078a4e98cb7e2a328f0e38c4b35bb' },
  { region: 'cn-north-1', host: 'sts.cn-north-1.amazonaws.com.cn', signature: '8f697d5e6a84a44ef7ff1174f02611d98fd53146e15435d002b0342f6f842fdc' },
  { region: 'us-gov-west-1', host: 'sts.us-gov-west-1.amazonaws.com', signature: 'a78e6e939486fb59d76c17aba8e9016b38b848337d670a06f4c668664f9179c9' },
  {
    region: 'us-west-2',
    host: 'sts.us-west-2.amazonaws.com',
    sessionToken: VECTOR_SESSION_TOKEN,
    signature: '9d3d59fee699450224b7099bb6dce5bca0a7677870232a3c17301613f0012615',
  },
];

/**
 * Whole presigned URLs for two of the vectors, printed by botocore's generate_presigned_url (aws-cli's get-token) with
 * its clock set to VECTOR_SIGNED_AT: the parameter order is part of "byte for byte".
 */
export const BOTOCORE_URLS = {
  'us-west-2': 'https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20200930%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20200930T093726Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=ff1c89c16f25275f8a4c7311678f447722646d643588854a114d168b062c4bf0',
  'us-west-2 with a session token': 'https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20200930%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20200930T093726Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FwoGZXIvYXdzEMP%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDLuLD7I1gA6LW1mZcSKxAZWj_trunc&X-Amz-Signature=9d3d59fee699450224b7099bb6dce5bca0a7677870232a3c17301613f0012615',
} as const;
