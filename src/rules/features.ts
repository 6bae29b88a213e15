/**
 * Every key Jitsi Meet knows in `context.features`, from `MEET_FEATURES` in jitsi-meet's
 * react/features/base/jwt/constants.ts. The client reports any other key as invalid
 * (`validateJwt` in react/features/base/jwt/functions.ts), and a features object switches off
 * whatever it leaves out, so a token carries either no features or all of these.
 */
export const JITSI_FEATURES = [
  'branding',
  'calendar',
  'create-polls',
  'file-upload',
  'flip',
  'inbound-call',
  'list-visitors',
  'live-translation',
  'livestreaming',
  'lobby',
  'moderation',
  'outbound-call',
  'recording',
  'room',
  'screen-sharing',
  'send-groupchat',
  'send-private-message',
  'sip-inbound-call',
  'sip-outbound-call',
  'transcription',
] as const;

export type JitsiFeature = (typeof JITSI_FEATURES)[number];

/** The complete set: the listed features as given, every other one false. */
export function completeFeatures(
  enabled: Readonly<Partial<Record<JitsiFeature, boolean>>>,
): Record<JitsiFeature, boolean> {
  const features = {} as Record<JitsiFeature, boolean>;
  for (const feature of JITSI_FEATURES) features[feature] = enabled[feature] ?? false;
  return features;
}
