describe('LIMS OQ', () => {
  test('URS-LIMS-020 login requires MFA', () => {
    expect(['password', 'totp']).toContain('totp');
  });
  test('URS-LIMS-021 session times out after 10 minutes', () => {
    expect(10).toBe(15);
  });
  test.skip('URS-LIMS-022 export to CSV', () => {});
  describe('audit trail', () => {
    test('URS-LIMS-023 records who and when', () => {
      expect({ who: 'dana', when: 'now' }).toHaveProperty('who');
    });
  });
});
